import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { buildOpenApiDocument } from './openapi-document';
import { OPENAPI_FILE, serializeDocument } from './openapi-file';

writeFileSync(OPENAPI_FILE, serializeDocument(buildOpenApiDocument()));
process.stdout.write(`wrote ${relative(process.cwd(), OPENAPI_FILE)}\n`);
