import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, natsConfig } from '@openecm/config';
import { nkeys, type Authenticator } from 'nats';
import { Test } from '@nestjs/testing';
import { Bus } from './bus';
import { MessagingModule } from './messaging.module';
import { NatsConnectionProvider } from './nats-connection';
import { inboxPrefix, natsConnectionOptions } from './nats-options';

const dir = mkdtempSync(join(tmpdir(), 'openecm-nats-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
};
const options = (env: Record<string, string>) => natsConnectionOptions('vault-adapters', loadConfig(natsConfig, env));
const sign = (authenticator: Authenticator | Authenticator[] | undefined) => (authenticator as Authenticator)('nonce-1') as unknown as Record<string, string>;
const decode = (text: string) => new TextEncoder().encode(text);

function creds(jwt: string, seed: string): string {
  return `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
}

/** The problems a ConfigError names, as `VARIABLE: problem`. */
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.variable}: ${i.problem}`);
    throw error;
  }
  return [];
}

describe('NATS connection options', () => {
  it('connect without credentials or TLS when none is configured, replies on the service\'s own inbox', () => {
    const opts = options({ NATS_URL: 'nats://nats:4222' });
    expect(opts).toEqual({ servers: 'nats://nats:4222', name: 'vault-adapters', inboxPrefix: inboxPrefix('vault-adapters'), noAsyncTraces: true });
    expect(inboxPrefix('vault-adapters')).toBe(`_INBOX.${process.env['OPENECM_NAMESPACE']}.vault-adapters`);
    expect(natsConnectionOptions(undefined, loadConfig(natsConfig, {})).inboxPrefix).toBe('_INBOX');
  });

  it('sign in with a user and password', () => {
    expect(sign(options({ NATS_USER: 'vault-adapters', NATS_PASSWORD: 'pw-1' }).authenticator)).toEqual({ user: 'vault-adapters', pass: 'pw-1' });
  });

  it('sign the server\'s nonce with an NKey seed given, or read from a file again on every connect', () => {
    const user = nkeys.createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    const given = sign(options({ NATS_NKEY_SEED: seed }).authenticator);
    expect(given['nkey']).toBe(user.getPublicKey());
    expect(nkeys.fromPublic(user.getPublicKey()).verify(decode('nonce-1'), Buffer.from(given['sig'] as string, 'base64url'))).toBe(true);

    const path = file('seed.nk', `${seed}\n`);
    const authenticator = options({ NATS_NKEY_SEED_FILE: path }).authenticator;
    expect(sign(authenticator)['nkey']).toBe(user.getPublicKey());
    const rotated = nkeys.createUser();
    writeFileSync(path, rotated.getSeed());
    expect(sign(authenticator)['nkey']).toBe(rotated.getPublicKey());
  });

  it('present a .creds file: its JWT and a signature by its seed', () => {
    const user = nkeys.createUser();
    const path = file('service.creds', creds('jwt.one', new TextDecoder().decode(user.getSeed())));
    const signed = sign(options({ NATS_CREDS_FILE: path }).authenticator);
    expect(signed['jwt']).toBe('jwt.one');
    expect(nkeys.fromPublic(user.getPublicKey()).verify(decode('nonce-1'), Buffer.from(signed['sig'] as string, 'base64url'))).toBe(true);
  });

  it('require TLS with any of the CA, certificate and key, read from their files', () => {
    const ca = file('ca.pem', 'ca');
    const cert = file('cert.pem', 'cert');
    const key = file('key.pem', 'key');
    expect(options({ NATS_TLS_CA: ca }).tls).toEqual({ caFile: ca });
    expect(options({ NATS_TLS_CA: ca, NATS_TLS_CERT: cert, NATS_TLS_KEY: key }).tls).toEqual({ caFile: ca, certFile: cert, keyFile: key });
  });

  it('refuse at boot a file that cannot be read or does not hold what it should, naming the variable and never the content', () => {
    const missing = join(dir, 'missing.pem');
    expect(problems(() => options({ NATS_TLS_CA: missing }))).toEqual([`NATS_TLS_CA: cannot read ${missing} (ENOENT)`]);
    expect(problems(() => options({ NATS_CREDS_FILE: missing }))).toEqual([`NATS_CREDS_FILE: cannot read ${missing} (ENOENT)`]);
    const garbage = file('garbage', 'SUnot-a-seed-but-a-secret-looking-thing');
    expect(problems(() => options({ NATS_NKEY_SEED_FILE: garbage }))).toEqual([`NATS_NKEY_SEED_FILE: ${garbage} does not hold a user NKey seed`]);
    expect(problems(() => options({ NATS_CREDS_FILE: garbage }))).toEqual([`NATS_CREDS_FILE: ${garbage} is not a NATS .creds file (a user JWT and its NKey seed)`]);
  });

  it('take one way to authenticate, a user with a password and a certificate with a key, never printing a secret', () => {
    const load = (env: Record<string, string>) => () => loadConfig(natsConfig, env);
    expect(problems(load({ NATS_USER: 'u' }))).toEqual(['NATS_PASSWORD: required with NATS_USER']);
    expect(problems(load({ NATS_PASSWORD: 'secret-pw' }))).toEqual(['NATS_USER: required with NATS_PASSWORD']);
    expect(problems(load({ NATS_USER: 'u', NATS_PASSWORD: 'secret-pw', NATS_CREDS_FILE: '/x.creds' }))).toEqual([
      'NATS_CREDS_FILE: one way to authenticate at a time: NATS_USER, NATS_CREDS_FILE are all set',
    ]);
    expect(problems(load({ NATS_TLS_CERT: '/c.pem' }))).toEqual(['NATS_TLS_KEY: required with NATS_TLS_CERT']);
    expect(problems(load({ NATS_TLS_KEY: '/k.pem' }))).toEqual(['NATS_TLS_CERT: required with NATS_TLS_KEY']);
    const seedProblems = problems(load({ NATS_NKEY_SEED: 'SUsecret-looking' }));
    expect(seedProblems).toEqual(['NATS_NKEY_SEED: a user NKey seed: SU followed by 56 base32 characters']);
    expect(natsConfig.sensitive).toEqual(expect.arrayContaining(['NATS_PASSWORD', 'NATS_NKEY_SEED']));
  });
});

describe('MessagingModule.forService', () => {
  it("names the raw connection after the app and gives it the app's inbox; without a name, the default inbox", async () => {
    const named = await Test.createTestingModule({ imports: [MessagingModule.forService('session-reporting')] }).compile();
    expect(named.get(NatsConnectionProvider).options).toMatchObject({ name: 'session-reporting', inboxPrefix: inboxPrefix('session-reporting') });
    const anonymous = await Test.createTestingModule({ imports: [MessagingModule] }).compile();
    expect(anonymous.get(NatsConnectionProvider).options).toMatchObject({ name: 'openecm', inboxPrefix: '_INBOX' });
    await Promise.all([named.get(Bus).onApplicationShutdown(), anonymous.get(Bus).onApplicationShutdown()]);
  });
});
