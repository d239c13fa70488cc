import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SERVICE_NAMES } from '@openecm/contracts';
import { DEFAULT_OUT, credentialVariable, renderServerConfig } from './server-config';

const ROOT = resolve(__dirname, '../../..');

describe('the nats-server accounts file', () => {
  it('is committed as the bus roles make it (run npm run nats-config after changing them)', () => {
    expect(readFileSync(resolve(ROOT, DEFAULT_OUT), 'utf8')).toBe(renderServerConfig({ auth: 'password' }));
  });

  it('names a variable for each service\'s credential and holds none', () => {
    for (const auth of ['password', 'nkey'] as const) {
      const text = renderServerConfig({ auth });
      for (const service of SERVICE_NAMES) expect(text).toContain(`${auth === 'password' ? 'password' : 'nkey'}: $${credentialVariable(service, auth)}\n`);
      expect(text.match(/^\s+(password|nkey): (?!\$NATS_)/m)).toBeNull();
    }
    expect(credentialVariable('appliance-gateway', 'password')).toBe('NATS_PASSWORD_APPLIANCE_GATEWAY');
    expect(credentialVariable('token-cache', 'nkey')).toBe('NATS_NKEY_TOKEN_CACHE');
  });

  it('qualifies every subject with the namespace it is made for', () => {
    const text = renderServerConfig({ auth: 'password', namespace: 'prod' });
    expect(text).toContain('"prod.token.cache.put.v1"');
    expect(text).toContain('"_INBOX.prod.vault-adapters.>"');
    expect(text).toContain('"$JS.API.STREAM.INFO.PROD_LEASE_EVENTS"');
    expect(text).not.toContain('"token.cache.put.v1"');
  });
});
