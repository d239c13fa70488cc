import { environment } from '@openecm/config';
import { run } from './program';

void run(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: environment(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`openecm failed: ${error instanceof Error ? error.name : 'unknown error'}\n`);
    process.exitCode = 1;
  },
);
