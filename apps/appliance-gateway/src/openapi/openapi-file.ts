import { resolve } from 'node:path';
import type { OpenApiDocument } from './openapi-document';

/** The committed copy of the document, for readers without a running gateway; `npm run openapi` writes it. */
export const OPENAPI_FILE = resolve(__dirname, '../../../../docs/openapi.json');

export function serializeDocument(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
