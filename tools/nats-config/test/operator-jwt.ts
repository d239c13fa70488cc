import { createHash } from 'node:crypto';
import { nkeys } from 'nats';
import type { ServicePermissions } from '../src/permissions';

type KeyPair = ReturnType<typeof nkeys.createUser>;

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A NATS JWT (v2, ed25519-nkey) for `subject`, signed by `issuer`: what `nsc` issues. */
function issue(issuer: KeyPair, subject: string, name: string, nats: object): string {
  const claims: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats };
  claims['jti'] = createHash('sha256').update(JSON.stringify(claims)).digest('base64url');
  const signing = `${part({ typ: 'JWT', alg: 'ed25519-nkey' })}.${part(claims)}`;
  return `${signing}.${Buffer.from(issuer.sign(new TextEncoder().encode(signing))).toString('base64url')}`;
}

const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };

/**
 * An operator setup made for a test: an operator, a system account and the OpenECM account, as a nats-server
 * configuration with the accounts preloaded, and `.creds` files for users of the OpenECM account.
 */
export function operatorSetup(): { serverConfig: string; creds(name: string, permissions: ServicePermissions): string; strangerCreds(): string } {
  const operator = nkeys.createOperator();
  const system = nkeys.createAccount();
  const account = nkeys.createAccount();
  const accountJwt = (key: KeyPair, name: string) => issue(operator, key.getPublicKey(), name, { limits: UNLIMITED, type: 'account', version: 2 });
  const serverConfig = [
    `operator: ${issue(operator, operator.getPublicKey(), 'openecm-test', { type: 'operator', version: 2, system_account: system.getPublicKey() })}`,
    `system_account: ${system.getPublicKey()}`,
    'resolver: MEMORY',
    'resolver_preload: {',
    `  ${system.getPublicKey()}: ${accountJwt(system, 'SYS')}`,
    `  ${account.getPublicKey()}: ${accountJwt(account, 'OPENECM')}`,
    '}',
    '',
  ].join('\n');
  const credsOf = (issuer: KeyPair, name: string, permissions: ServicePermissions) => {
    const user = nkeys.createUser();
    const jwt = issue(issuer, user.getPublicKey(), name, {
      pub: { allow: permissions.publish },
      sub: { allow: permissions.subscribe },
      resp: { max: 1, ttl: 0 },
      subs: -1,
      data: -1,
      payload: -1,
      type: 'user',
      version: 2,
    });
    const seed = new TextDecoder().decode(user.getSeed());
    return `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
  };
  return {
    serverConfig,
    creds: (name, permissions) => credsOf(account, name, permissions),
    // signed by an account the server does not know
    strangerCreds: () => credsOf(nkeys.createAccount(), 'stranger', { publish: ['>'], subscribe: ['>'] }),
  };
}
