import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { default as ProviderType, KoaContextWithOIDC } from 'oidc-provider';
import { DEV_PEOPLE, type DevPerson } from './people';

export interface DevIdpOptions {
  port: number;
  clientId: string;
  clientSecret: string;
  /** The gateway's callback (OIDC_REDIRECT_URI). */
  redirectUris: string[];
  /** Where sign-out may return to: the console. */
  postLogoutRedirectUris: string[];
  people?: readonly DevPerson[];
  log?: (line: Record<string, unknown>) => void;
}

export interface DevIdp {
  issuer: string;
  server: Server;
  close(): Promise<void>;
}

const escape = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;color:#1f2937}label{display:block;margin:.75rem 0 .25rem}
input{width:100%;padding:.5rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b91c1c}
.note{color:#6b7280;font-size:.85rem;margin-top:2rem}</style></head>
<body>${body}</body></html>
`;
}

function loginForm(uid: string, error?: string, username = ''): string {
  return page(
    'Sign in: OpenECM development identity provider',
    `<h1>Sign in</h1>
<p>OpenECM development identity provider</p>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
<label for="username">User name</label><input id="username" name="username" value="${escape(username)}" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit" id="sign-in">Sign in</button>
</form>
<p class="note">For development and tests only: the people and their passwords are in tools/dev-idp/src/people.ts.</p>`,
  );
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * A development OpenID Connect provider (`oidc-provider`) with a few seeded people and a plain login form a
 * browser test can fill: authorization code with PKCE required, one confidential client, the `groups` claim in
 * the ID token, RP-initiated logout. Listens on 127.0.0.1 only; keys are made at start and live as long as it.
 */
export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const people = new Map((options.people ?? DEV_PEOPLE).map((p) => [p.username, p]));
  const log = options.log ?? (() => undefined);
  // oidc-provider ships ES modules only; Node 20.19+ loads them with require
  const { default: Provider } = (await import('oidc-provider')) as { default: typeof ProviderType };
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username', 'groups'], email: ['email', 'email_verified'] },
    // the console reads the groups from the ID token, as most organisations' providers put them there
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [{ ...signingKey, kid: 'dev-idp', use: 'sig', alg: 'RS256' }] },
    findAccount: (_ctx: KoaContextWithOIDC, id: string) => {
      const person = people.get(id);
      if (!person) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          name: person.name,
          preferred_username: person.username,
          email: person.email,
          email_verified: true,
          groups: person.groups,
        }),
      };
    },
  } as ConstructorParameters<typeof ProviderType>[1]);
  const handle = provider.callback();

  const interaction = async (req: IncomingMessage, res: ServerResponse, uid: string, submit: boolean) => {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    const html = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(body);
    };
    if (details.prompt.name === 'login') {
      if (!submit) return html(200, loginForm(uid));
      const form = await formBody(req);
      const username = form.get('username') ?? '';
      const person = people.get(username);
      if (!person || form.get('password') !== person.password) {
        log({ event: 'dev-idp.sign-in.failed', username, msg: 'wrong user name or password' });
        return html(401, loginForm(uid, 'Wrong user name or password.', username));
      }
      log({ event: 'dev-idp.sign-in', username, msg: 'signed in' });
      return provider.interactionFinished(req, res, { login: { accountId: person.username } }, { mergeWithLastSubmission: false });
    }
    // the console is this provider's only client, first-party: consent is given without asking
    const { params, session, prompt } = details;
    const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session?.accountId as string, clientId: params['client_id'] as string });
    if (!grant) throw new Error('grant not found');
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(path);
    if (!match) {
      void handle(req, res);
      return;
    }
    const submit = match[2] !== undefined && req.method === 'POST';
    interaction(req, res, match[1] as string, submit).catch((error: Error) => {
      log({ event: 'dev-idp.interaction.failed', err: error.name, msg: error.message });
      if (!res.headersSent) res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' }).end(page('Sign-in failed', '<p>This sign-in cannot go on: start again from the console.</p>'));
    });
  });

  return {
    issuer,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
