// `npm start`: runs the compiled launcher (tools/launcher), which starts the five services from dist/.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const entry = resolve(import.meta.dirname, '../../dist/tools/launcher/src/main.js');
if (!existsSync(entry)) {
  process.stderr.write('openecm: not built yet; run `npm run build` first\n');
  process.exit(2);
}
createRequire(import.meta.url)(entry);
