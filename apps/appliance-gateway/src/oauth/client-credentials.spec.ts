import { createHash } from 'node:crypto';
import { SecretValue } from '@openecm/crypto';
import { hashAccessToken, parseBasicAuthorization, parseBearerToken, type BasicAuthorization, type ClientCredentials } from './client-credentials';
import { clientCredentialsOf, parseTokenRequest } from './token-request';
import { OAuthError } from './oauth-error';

/** The candidates with their secrets revealed, to compare with what was sent. */
const plain = (candidates: ClientCredentials[]) => candidates.map((c) => ({ clientId: c.clientId, clientSecret: c.clientSecret.reveal() }));
const plainBasic = (parsed: BasicAuthorization) => (parsed.kind === 'basic' ? { kind: parsed.kind, candidates: plain(parsed.candidates) } : parsed);
const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

describe('access token digests', () => {
  it('stores the SHA-256 hex of the token, not the token', () => {
    const token = 'qW3r7yU1oP0aS9dF8gH7jK6lZ5xC4vB3nM2';
    expect(hashAccessToken(token)).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hashAccessToken(token)).toHaveLength(64);
    expect(hashAccessToken(token)).not.toContain(token);
  });
});

describe('HTTP Basic client authentication', () => {
  it('reads client id and secret, splitting at the first colon only', () => {
    expect(plainBasic(parseBasicAuthorization(basic('pra:s3cr:et')))).toEqual({
      kind: 'basic',
      candidates: [{ clientId: 'pra', clientSecret: 's3cr:et' }],
    });
  });

  it('accepts the scheme in any case', () => {
    expect(parseBasicAuthorization(`basic ${Buffer.from('a:b').toString('base64')}`).kind).toBe('basic');
  });

  it('tries the RFC 6749 form-decoded reading first, then the credentials as sent', () => {
    expect(plainBasic(parseBasicAuthorization(basic('my%20app:a+b%2Bc')))).toEqual({
      kind: 'basic',
      candidates: [
        { clientId: 'my app', clientSecret: 'a b+c' },
        { clientId: 'my%20app', clientSecret: 'a+b%2Bc' },
      ],
    });
    expect(plainBasic(parseBasicAuthorization(basic('app:100%')))).toEqual({
      kind: 'basic',
      candidates: [{ clientId: 'app', clientSecret: '100%' }],
    });
  });

  it.each([
    ['no colon', basic('justanid')],
    ['empty id', basic(':secret')],
    ['empty secret', basic('id:')],
    ['not base64', 'Basic !!!'],
    ['no credentials', 'Basic'],
    ['oversized secret', basic(`id:${'x'.repeat(2000)}`)],
  ])('calls %s malformed', (_case, header) => {
    expect(parseBasicAuthorization(header)).toEqual({ kind: 'malformed' });
  });

  it('ignores a missing header or another scheme', () => {
    expect(parseBasicAuthorization(undefined)).toEqual({ kind: 'absent' });
    expect(parseBasicAuthorization('Bearer abc')).toEqual({ kind: 'absent' });
  });
});

describe('token requests', () => {
  const grant = { grant_type: 'client_credentials' };

  it('takes the credentials from Basic or from the body, never both', () => {
    expect(plain(clientCredentialsOf(basic('a:b'), parseTokenRequest(grant)))).toEqual([{ clientId: 'a', clientSecret: 'b' }]);
    expect(plain(clientCredentialsOf(undefined, parseTokenRequest({ ...grant, client_id: 'a', client_secret: 'b' })))).toEqual([
      { clientId: 'a', clientSecret: 'b' },
    ]);
    const both = () => clientCredentialsOf(basic('a:b'), parseTokenRequest({ ...grant, client_id: 'a' }));
    expect(both).toThrow(OAuthError);
    expect(() => both()).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', oauthError: 'invalid_request' }));
  });

  it('holds the secret as a SecretValue from either place, so a logged candidate shows no secret', () => {
    for (const candidates of [
      clientCredentialsOf(basic('a:canary-basic'), parseTokenRequest(grant)),
      clientCredentialsOf(undefined, parseTokenRequest({ ...grant, client_id: 'a', client_secret: 'canary-body' })),
    ]) {
      expect(candidates[0]?.clientSecret).toBeInstanceOf(SecretValue);
      expect(JSON.stringify(candidates)).toBe('[{"clientId":"a","clientSecret":"[secret]"}]');
    }
  });

  it('answers invalid_client when no or half credentials are given', () => {
    for (const body of [grant, { ...grant, client_id: 'a' }]) {
      expect(() => clientCredentialsOf(undefined, parseTokenRequest(body))).toThrow(
        expect.objectContaining({ code: 'UNAUTHENTICATED', oauthError: 'invalid_client' }),
      );
    }
    expect(() => clientCredentialsOf('Basic %%%', parseTokenRequest(grant))).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
  });

  it('names another grant type unsupported and rejects unknown fields by name', () => {
    expect(() => parseTokenRequest({ grant_type: 'password' })).toThrow(expect.objectContaining({ oauthError: 'unsupported_grant_type' }));
    expect(() => parseTokenRequest({ ...grant, username: 'x' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', fields: [{ field: 'username', message: 'unknown field' }] }),
    );
  });
});

describe('Bearer tokens', () => {
  const token = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA';

  it('reads a well-formed token in any scheme case', () => {
    expect(parseBearerToken(`Bearer ${token}`)).toBe(token);
    expect(parseBearerToken(`bearer ${token}`)).toBe(token);
  });

  it.each([undefined, '', 'Bearer', `Basic ${token}`, 'Bearer short', `Bearer ${token} extra`, `Bearer ${token}!`])(
    'finds no token in %p',
    (header) => {
      expect(parseBearerToken(header)).toBeUndefined();
    },
  );
});
