/**
 * The development identity provider as its own process (`node -r @swc-node/register tools/dev-idp/src/main.ts`):
 * `npm run demo` and the console's browser test start it. Settings from the environment:
 *   DEV_IDP_PORT (0: a free port), DEV_IDP_CLIENT_ID, DEV_IDP_CLIENT_SECRET, DEV_IDP_REDIRECT_URIS and
 *   DEV_IDP_POST_LOGOUT_REDIRECT_URIS (comma-separated).
 * Prints one JSON line per event; the first says where it listens: {"event":"dev-idp.listening","issuer":...}.
 */
import { z } from 'zod';
import { DEV_PEOPLE } from './people';
import { startDevIdp } from './dev-idp';

const list = z.string().transform((v) => v.split(',').map((e) => e.trim()).filter((e) => e !== ''));
const env = z
  .object({
    DEV_IDP_PORT: z.coerce.number().int().min(0).max(65535).default(8092),
    DEV_IDP_CLIENT_ID: z.string().min(1).default('openecm-console'),
    DEV_IDP_CLIENT_SECRET: z.string().min(16).default('dev-idp-client-secret-demo-only'),
    DEV_IDP_REDIRECT_URIS: list.default(['http://127.0.0.1:8080/console/auth/callback']),
    DEV_IDP_POST_LOGOUT_REDIRECT_URIS: list.default(['http://127.0.0.1:8080/console']),
  })
  .parse(process.env);

const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);

startDevIdp({
  port: env.DEV_IDP_PORT,
  clientId: env.DEV_IDP_CLIENT_ID,
  clientSecret: env.DEV_IDP_CLIENT_SECRET,
  redirectUris: env.DEV_IDP_REDIRECT_URIS,
  postLogoutRedirectUris: env.DEV_IDP_POST_LOGOUT_REDIRECT_URIS,
  log: print,
}).then(
  (idp) => {
    print({ event: 'dev-idp.listening', issuer: idp.issuer, people: DEV_PEOPLE.map((p) => p.username), msg: 'development identity provider listening' });
    const stop = () => void idp.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  },
  (error: Error) => {
    process.stderr.write(`dev-idp failed to start: ${error.message}\n`);
    process.exit(1);
  },
);
