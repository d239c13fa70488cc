import { SecretValue } from '@openecm/crypto';
import { createSecretServerSim, type SecretServerSim, type SecretServerSimOptions } from '../../../../tools/secret-server-sim/src/sim';
import { cacheTtlSeconds } from './secret-server.adapter';
import { SecretServerError, sanitizeVaultText, type SecretServerErrorKind } from './secret-server.errors';
import { secretServerUrls } from './secret-server.http';
import { SecretServerRestClient } from './secret-server.rest-client';
import { SecretServerSoapClient } from './secret-server.soap-client';

const API = { username: 'openecm-api', password: SecretValue.of('openecm-api-demo-pass'), domain: '', organization: '' };
const sims: SecretServerSim[] = [];
const clients: Array<{ close(): Promise<void> }> = [];

async function startSim(options: SecretServerSimOptions = {}): Promise<{ sim: SecretServerSim; baseUrl: string; soapUrl: string }> {
  const sim = createSecretServerSim(options);
  sims.push(sim);
  const baseUrl = await sim.listen(0);
  return { sim, baseUrl, soapUrl: `${baseUrl}/webservices/SSWebService.asmx` };
}

function soapFor(soapUrl: string, extra: Partial<ConstructorParameters<typeof SecretServerSoapClient>[0]> = {}): SecretServerSoapClient {
  const client = new SecretServerSoapClient({ soapUrl, timeoutMs: 5_000, retry: { attempts: 3, baseDelayMs: 1 }, ...extra });
  clients.push(client);
  return client;
}

function restFor(baseUrl: string, extra: Partial<ConstructorParameters<typeof SecretServerRestClient>[0]> = {}): SecretServerRestClient {
  const client = new SecretServerRestClient({ baseUrl, timeoutMs: 5_000, retry: { attempts: 3, baseDelayMs: 1 }, ...extra });
  clients.push(client);
  return client;
}

async function expectKind(work: Promise<unknown>, kind: SecretServerErrorKind): Promise<SecretServerError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretServerError);
  expect(error).toMatchObject({ kind });
  return error as SecretServerError;
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(sims.map((s) => s.close()));
});

describe('URLs, messages and TTLs', () => {
  it.each([
    ['https://ss.example/SecretServer/webservices/SSWebservice.asmx', 'https://ss.example/SecretServer/webservices/SSWebservice.asmx', 'https://ss.example/SecretServer'],
    ['https://ss.example/SecretServer/webservices/SSWebService.asmx/', 'https://ss.example/SecretServer/webservices/SSWebService.asmx', 'https://ss.example/SecretServer'],
    ['https://ss.example/SecretServer', 'https://ss.example/SecretServer/webservices/SSWebService.asmx', 'https://ss.example/SecretServer'],
    ['https://ss.example/SecretServer/', 'https://ss.example/SecretServer/webservices/SSWebService.asmx', 'https://ss.example/SecretServer'],
    ['https://ss.example', 'https://ss.example/webservices/SSWebService.asmx', 'https://ss.example'],
    ['https://ss.example:8443/ss/WebServices/sswebservice.ASMX?wsdl', 'https://ss.example:8443/ss/WebServices/sswebservice.ASMX', 'https://ss.example:8443/ss'],
  ])('%s', (input, soapUrl, baseUrl) => {
    expect(secretServerUrls(input)).toEqual({ soapUrl, baseUrl });
  });

  it('sanitises vault text: sent secrets and URL queries removed, control characters folded, length bounded', () => {
    expect(sanitizeVaultText('bad pw hunter2hunter2 for token abc.def', ['hunter2hunter2', 'abc.def'])).toBe('bad pw [redacted] for token [redacted]');
    expect(sanitizeVaultText('approve at https://ss/ApplicationAccess.aspx?request=abc123 now')).toBe('approve at https://ss/ApplicationAccess.aspx now');
    expect(sanitizeVaultText('a\r\n\tb\u0000c')).toBe('a b c');
    expect(sanitizeVaultText('x'.repeat(1000))).toHaveLength(303);
  });

  it('sanitises a hostile vault text by reading only its start, once the secrets are out of all of it', () => {
    // URLs back to back once made the query scan start over inside each one: quadratic in the text
    const urls = sanitizeVaultText(`${'http://'.repeat(600_000)}?request=abc`);
    expect(urls).toBe(`${'http://'.repeat(600_000).slice(0, 300)}...`);
    // a secret is taken out of the whole text before its start is cut, so no part of one is ever left
    const padded = sanitizeVaultText(`${' '.repeat(16 * 300 - 10)}hunter2hunter2 after`, ['hunter2hunter2']);
    expect(padded).toBe('[redacted]');
    expect(sanitizeVaultText(`${' '.repeat(16 * 300 - 20)}https://ss/x?request=abc123`)).toBe('https://ss/x');
  });

  it('caches a token for its lifetime minus a margin of at most a minute', () => {
    expect(cacheTtlSeconds(1200)).toBe(1140);
    expect(cacheTtlSeconds(300)).toBe(270);
    expect(cacheTtlSeconds(10)).toBe(9);
    expect(cacheTtlSeconds(1)).toBe(1);
  });
});

describe('SOAP client against the simulator', () => {
  let sim: SecretServerSim;
  let soap: SecretServerSoapClient;
  let soapUrl: string;

  beforeAll(async () => {
    ({ sim, soapUrl } = await startSim());
    soap = soapFor(soapUrl);
  });

  beforeEach(() => sim.state.reset());

  it('authenticates the API account; a wrong password is an authentication error that never echoes it', async () => {
    const token = await soap.authenticate(API);
    expect(token.length).toBeGreaterThan(20);
    const error = await expectKind(soap.authenticate({ ...API, password: SecretValue.of('wrong-password-123') }), 'authentication');
    expect(error.message).toContain('Login failed');
    expect(error.message).not.toContain('wrong-password-123');
    expect(error.vaultMessage).toBe('Login failed.');
  });

  it('GetTokenIsValid reports the remaining life; WhoAmI the user', async () => {
    const token = await soap.authenticate(API);
    const valid = await soap.getTokenIsValid(token);
    expect(valid.maxOfflineSeconds).toBeGreaterThan(1100);
    expect(valid.maxOfflineSeconds).toBeLessThanOrEqual(1200);
    expect(await soap.whoAmI(token)).toMatchObject({ userName: 'openecm-api' });
    await expectKind(soap.getTokenIsValid('not-a-token'), 'token-expired');
  });

  it('classifies every ImpersonateUser answer; the AuthorizeURL travels apart from the message', async () => {
    const api = await soap.authenticate(API);
    const alice = await soap.impersonateUser(api, { username: 'alice', domain: 'CORP', organization: '' });
    expect(await soap.whoAmI(alice)).toMatchObject({ userName: 'alice', domainName: 'CORP' });
    // the FQDN works as the domain argument too
    await expect(soap.impersonateUser(api, { username: 'alice', domain: 'corp.example', organization: '' })).resolves.toEqual(expect.any(String));

    const pending = await expectKind(soap.impersonateUser(api, { username: 'bob', domain: 'CORP', organization: '' }), 'impersonation-pending');
    expect(pending.approveUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/SecretServer\/ApplicationAccess\.aspx\?request=demo-bob-request$/);
    expect(pending.message).not.toContain('demo-bob-request');
    expect(pending.message).not.toContain(api);

    await expectKind(soap.impersonateUser(api, { username: 'carol', domain: 'CORP', organization: '' }), 'impersonation-denied');
    await expectKind(soap.impersonateUser(api, { username: 'grace', domain: 'CORP', organization: '' }), 'impersonation-revoked');
    const missing = await expectKind(soap.impersonateUser(api, { username: 'nobody', domain: 'CORP', organization: '' }), 'user-not-found');
    expect(missing.approveUrl).toBeUndefined();
    // DOMAIN\user in the user name is looked up literally, as Secret Server does
    await expectKind(soap.impersonateUser(api, { username: 'CORP\\alice', domain: '', organization: '' }), 'user-not-found');
    await expectKind(soap.impersonateUser('expired-or-bogus', { username: 'alice', domain: 'CORP', organization: '' }), 'token-expired');

    const noPermission = await soap.authenticate({ ...API, username: 'svc-noimpersonate', password: SecretValue.of('svc-noimpersonate-demo-pass') });
    await expectKind(soap.impersonateUser(noPermission, { username: 'alice', domain: 'CORP', organization: '' }), 'no-impersonate-permission');
  });

  it('a user whose name reads like a trust state is still classified by the message, not the name', async () => {
    const seed = {
      domains: [{ id: 1, name: 'CORP' }],
      users: [
        { id: 1, username: 'api', password: 'api-pass-1', webServicesImpersonate: true },
        { id: 2, username: 'revoked-pending', domain: 'CORP', password: 'x-pass-1' },
      ],
      trust: [{ apiUser: 'api', user: 'CORP\\revoked-pending', state: 'denied' as const }],
    };
    const { soapUrl: url } = await startSim({ seed });
    const client = soapFor(url);
    const api = await client.authenticate({ username: 'api', password: SecretValue.of('api-pass-1'), domain: '', organization: '' });
    await expectKind(client.impersonateUser(api, { username: 'revoked-pending', domain: 'CORP', organization: '' }), 'impersonation-denied');
  });

  it('searches by field value, reads a secret, answers restrictions with their kinds and codeResponses', async () => {
    const api = await soap.authenticate(API);
    const alice = await soap.impersonateUser(api, { username: 'alice', domain: 'CORP', organization: '' });
    const hits = await soap.searchSecretsByFieldValue(alice, 'Machine', 'srv-app01');
    expect(hits.map((h) => [h.secretId, h.isRestricted]).sort()).toEqual([
      [101, false],
      [105, true],
      [106, true],
    ]);
    const secret = await soap.getSecret(alice, 101, { loadSettingsAndPermissions: true });
    expect(secret).toMatchObject({ id: 101, name: 'srv-app01 Administrator', checkOutEnabled: false });
    expect(secret.items.find((i) => i.fieldName === 'Password')).toMatchObject({ isPassword: true, value: sim.state.passwordOf(101) });

    const comment = await expectKind(soap.getSecret(alice, 106), 'comment-required');
    expect(comment.responseCode).toBe('COMMENT');
    const withComment = await soap.getSecret(alice, 106, { codeResponses: [{ errorCode: 'COMMENT', comment: 'ticket <42> & more' }] });
    expect(withComment.items.find((i) => i.isPassword)?.value).toBe(sim.state.passwordOf(106));
    const log = (await fetch(new URL('/_sim/secrets/106', soapUrl)).then((r) => r.json())) as { accessLog: Array<{ comment?: string }> };
    expect(log.accessLog.at(-1)?.comment).toBe('ticket <42> & more');

    await expectKind(soap.getSecret(alice, 999), 'access-denied');
    await expectKind(soap.searchSecretsByFieldValue('bogus-token', 'Machine', 'srv-app01'), 'token-expired');
  });

  it('GetSecret checks a CheckOutEnabled secret out; another user is refused with checked-out; CheckIn releases, twice is fine', async () => {
    const api = await soap.authenticate(API);
    const alice = await soap.impersonateUser(api, { username: 'alice', domain: 'CORP', organization: '' });
    const dave = await soap.impersonateUser(api, { username: 'dave', domain: '', organization: '' });
    const out = await soap.getSecret(alice, 105, { loadSettingsAndPermissions: true });
    expect(out).toMatchObject({ isCheckedOut: true, checkOutEnabled: true });
    await expectKind(soap.getSecret(dave, 105), 'checked-out');
    await expectKind(soap.checkIn(dave, 105), 'checked-out');
    await soap.checkIn(alice, 105);
    await soap.checkIn(alice, 105);
    await soap.checkIn(alice, 101);
    expect(sim.state.stats().checkedOutSecrets).toBe(0);
  });

  // Retrying itself (which statuses, dropped connections, backoff) is the shared transport's: libs/vault-sdk/src/http/vault-http.spec.ts.
  it('gives up on a retryable status as unavailable, on a closed port as connect, and on a TLS failure as tls at once', async () => {
    sim.state.addFault({ count: 3, status: 502, operation: 'Authenticate' });
    const unavailable = await expectKind(soap.authenticate(API), 'unavailable');
    expect(unavailable).toMatchObject({ status: 502, attempts: 3, message: 'Secret Server answered 502 to SOAP Authenticate after 3 attempts' });
    const connect = await expectKind(soapFor('http://127.0.0.1:9/SecretServer/webservices/SSWebService.asmx').authenticate(API), 'connect');
    expect(connect).toMatchObject({ transportCode: 'ECONNREFUSED', attempts: 3 });
    expect(connect.message).toBe('Secret Server unreachable during SOAP Authenticate after 3 attempts');
    const before = sim.state.stats().authenticate.total;
    const tls = await expectKind(soapFor(soapUrl.replace('http:', 'https:')).authenticate(API), 'tls');
    expect(tls.attempts).toBe(1);
    expect(sim.state.stats().authenticate.total).toBe(before);
  });

  it('does not retry a 4xx, a SOAP client fault or an HTML page, and says what it got', async () => {
    sim.state.addFault({ count: 2, status: 500, operation: 'Authenticate', contentType: 'text/xml', body: '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>Server was unable to read request.</faultstring></soap:Fault></soap:Body></soap:Envelope>' });
    const fault = await expectKind(soap.authenticate(API), 'unexpected');
    expect(fault.message).toBe('Secret Server rejected SOAP Authenticate with a SOAP fault');
    expect(fault.vaultMessage).toBe('Server was unable to read request.');
    expect(sim.state.stats().faultsPending).toBe(1);
    sim.state.clearFaults();
    sim.state.addFault({ count: 1, status: 200, operation: 'Authenticate', contentType: 'text/html', body: '<html>login</html>' });
    expect((await expectKind(soap.authenticate(API), 'unexpected')).message).toContain('HTML page');
    const wrongPath = soapFor(soapUrl.replace('SSWebService.asmx', 'Nope.asmx'));
    expect((await expectKind(wrongPath.authenticate(API), 'unexpected')).message).toContain('HTTP 404');
  });

  it('never lets a password or token reach an error message, even when the vault echoes it', async () => {
    const secret = 'Echoed-Secret-Pass!9';
    sim.state.addFault({
      count: 1,
      status: 200,
      operation: 'Authenticate',
      contentType: 'text/xml',
      body: `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><AuthenticateResponse xmlns="urn:thesecretserver.com"><AuthenticateResult><Errors><string>Login failed for password ${secret}</string></Errors></AuthenticateResult></AuthenticateResponse></soap:Body></soap:Envelope>`,
    });
    const error = await expectKind(soap.authenticate({ ...API, password: SecretValue.of(secret) }), 'authentication');
    expect(error.message).not.toContain(secret);
    expect(error.message).toContain('[redacted]');
  });

  it.each([
    ['attributes', /^Secret Server answered SOAP SearchSecretsByFieldValue with unreadable XML \(Too many attributes on an element \(line 1, position \d+\)\)$/],
    ['namespaces', /^Secret Server answered SOAP SearchSecretsByFieldValue with unreadable XML \(Too many namespace declarations \(line 1, position \d+\)\)$/],
    ['oversized', /^Secret Server answered SOAP SearchSecretsByFieldValue with more than 4194304 bytes, the limit for one answer$/],
  ] as const)('refuses a hostile answer (%s) as unexpected, once, saying which bound it crossed and nothing it held', async (hostile, message) => {
    const token = await soap.authenticate(API);
    const served = sim.state.stats().faultsServed;
    sim.state.addFault({ count: 2, hostile, operation: 'SearchSecretsByFieldValue' });
    const error = await expectKind(soap.searchSecretsByFieldValue(token, 'Machine', 'srv-app01'), 'unexpected');
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/a64|hostile|xxxx/);
    expect(sim.state.stats().faultsServed).toBe(served + 1);
    sim.state.clearFaults();
    expect(await soap.searchSecretsByFieldValue(token, 'Machine', 'srv-app01')).not.toHaveLength(0);
  });

  it('takes answers up to the size it is given: past a larger one the parser bounds the text, a smaller one refuses an ordinary answer', async () => {
    const token = await soap.authenticate(API);
    sim.state.addFault({ count: 1, hostile: 'oversized', operation: 'SearchSecretsByFieldValue' });
    const large = soapFor(soapUrl, { maxBodyBytes: 8 * 1024 * 1024 });
    expect((await expectKind(large.searchSecretsByFieldValue(token, 'Machine', 'srv-app01'), 'unexpected')).message).toContain('The text of an element is too long');
    const small = soapFor(soapUrl, { maxBodyBytes: 1024 });
    expect((await expectKind(small.searchSecretsByFieldValue(token, 'Machine', 'srv-app01'), 'unexpected')).message).toMatch(/more than 1024 bytes/);
  });
});

describe('REST client against the simulator', () => {
  let sim: SecretServerSim;
  let rest: SecretServerRestClient;
  let baseUrl: string;

  beforeAll(async () => {
    ({ sim, baseUrl } = await startSim());
    rest = restFor(baseUrl);
  });

  beforeEach(() => sim.state.reset());

  it('gets a token with the domain in its own field; a bad login is an authentication error without the password', async () => {
    const token = await rest.token({ username: 'openecm-api', password: API.password });
    expect(token.expiresIn).toBe(1200);
    await expect(rest.token({ username: 'alice', password: SecretValue.of('alice-demo-pass'), domain: 'CORP' })).resolves.toMatchObject({ accessToken: expect.any(String) });
    const error = await expectKind(rest.token({ username: 'CORP\\alice', password: SecretValue.of('alice-demo-pass') }), 'authentication');
    expect(error.message).toBe('Secret Server answered 400 to POST oauth2/token');
    expect(error.vaultMessage).toContain('Login failed.');
    expect(error.vaultMessage).not.toContain('alice-demo-pass');
  });

  it('searches with exact match and extended fields, paging through every match', async () => {
    const { accessToken } = await rest.token({ username: 'openecm-api', password: API.password });
    const hits = await rest.searchSecrets(accessToken, { searchField: 'Machine', searchText: 'SRV-APP01', extendedFields: ['Machine', 'Username', 'Domain'] });
    expect(hits.map((h) => h.id).sort()).toEqual([101, 105, 106]);
    expect(hits.find((h) => h.id === 101)?.extendedFields).toEqual([
      { name: 'Machine', value: 'srv-app01' },
      { name: 'Username', value: 'Administrator' },
    ]);
    expect(JSON.stringify(hits)).not.toContain('Demo-');
    // a prefix does not match an exact search
    expect(await rest.searchSecrets(accessToken, { searchField: 'Machine', searchText: 'srv-app' })).toEqual([]);

    const many = {
      users: [{ id: 1, username: 'api', password: 'api-pass-1' }],
      secrets: Array.from({ length: 450 }, (_, i) => ({
        id: i + 1,
        name: `s${i}`,
        template: 'Windows Account',
        fields: { machine: 'bulk', username: `u${i}` },
        permissions: { users: ['api'] },
      })),
    };
    const { baseUrl: bulkUrl } = await startSim({ seed: many });
    const bulk = restFor(bulkUrl);
    const t = await bulk.token({ username: 'api', password: SecretValue.of('api-pass-1') });
    expect(await bulk.searchSecrets(t.accessToken, { searchField: 'Machine', searchText: 'bulk' })).toHaveLength(450);
  });

  it('reads a secret (check-out on read), needs a comment for a restricted one, reads a key file, checks in', async () => {
    const { accessToken } = await rest.token({ username: 'openecm-api', password: API.password });
    await expectKind(rest.getSecret(accessToken, 105, { noAutoCheckout: true }), 'checkout-required');
    expect(sim.state.stats().checkedOutSecrets).toBe(0);
    const out = await rest.getSecret(accessToken, 105);
    expect(out).toMatchObject({ checkedOut: true, checkOutEnabled: true });
    await rest.checkIn(accessToken, 105);
    await rest.checkIn(accessToken, 105);
    expect(sim.state.stats().checkedOutSecrets).toBe(0);

    await expectKind(rest.getSecret(accessToken, 106), 'comment-required');
    const commented = await rest.getSecret(accessToken, 106, { comment: 'lease reason' });
    expect(commented.items.find((i) => i.isPassword)?.itemValue).toBe(sim.state.passwordOf(106));

    const key = await rest.getField(accessToken, 102, 'private-key');
    expect(key).toContain('BEGIN OPENSSH PRIVATE KEY');
    await expectKind(rest.getSecret(accessToken, 999), 'access-denied');
  });

  it('answers token-expired for a rejected token, and unexpected for an HTML page', async () => {
    await expectKind(rest.searchSecrets('bogus', { searchField: 'Machine', searchText: 'x' }), 'token-expired');
    sim.state.addFault({ count: 1, status: 200, path: 'oauth2/token', contentType: 'text/html', body: '<html>login</html>' });
    expect((await expectKind(rest.token({ username: 'openecm-api', password: API.password }), 'unexpected')).message).toContain('HTML page');
  });
});
