import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { captureLog, postControl, simHarness, waitFor } from '@openecm/sim-kit/testing';
import { EMPTY_SEED, createSecretServerSim, simSeedSchema, type SimSeed } from './sim';
import { el, leaf, parseXml, serializeXml, type XmlElement } from '@openecm/xml';

const API_USER = 'openecm-api';
const API_PASSWORD = 'openecm-api-demo-pass';
const SRV_APP01_ADMIN = 101;
const LNX_WEB01_ROOT = 102;
const CORP_PRA_ADMIN = 103;
const CHECKOUT_SECRET = 105;
const COMMENT_SECRET = 106;
const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const SS = 'urn:thesecretserver.com';

const { start, closeAll } = simHarness(createSecretServerSim);

afterEach(closeAll);


type Param = string | number | boolean | { raw: string };

function envelope(operation: string, params: Record<string, Param>): string {
  const inner = Object.entries(params)
    .map(([name, value]) => (typeof value === 'object' ? `<${name}>${value.raw}</${name}>` : serializeXml(leaf(name, value))))
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><${operation} xmlns="${SS}">${inner}</${operation}></soap:Body></soap:Envelope>`;
}

interface SoapAnswer {
  status: number;
  text: string;
  contentType: string | null;
  result: XmlElement | undefined;
  fault: { code: string; message: string } | undefined;
}

const kid = (element: XmlElement | undefined, name: string): XmlElement | undefined => element?.children.find((c) => c.local === name);
const kids = (element: XmlElement | undefined, name: string): XmlElement[] => element?.children.filter((c) => c.local === name) ?? [];
const txt = (element: XmlElement | undefined, name: string): string | undefined => kid(element, name)?.text;
const errorsOf = (answer: SoapAnswer): string[] => kids(kid(answer.result, 'Errors'), 'string').map((s) => s.text);
const isNil = (element: XmlElement | undefined): boolean => element?.attributes.some((a) => a.local === 'nil' && a.value === 'true') ?? false;

async function soapRaw(base: string, body: string, headers: Record<string, string>, path = '/webservices/SSWebService.asmx'): Promise<SoapAnswer> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  let result: XmlElement | undefined;
  let fault: SoapAnswer['fault'];
  if (res.headers.get('content-type')?.startsWith('text/xml')) {
    const root = parseXml(text);
    const content = kid(kid(root, 'Body'), 'Fault') ?? kid(root, 'Body')?.children[0];
    if (content?.local === 'Fault') fault = { code: txt(content, 'faultcode') ?? '', message: txt(content, 'faultstring') ?? '' };
    else result = content?.children[0];
  }
  return { status: res.status, text, contentType: res.headers.get('content-type'), result, fault };
}

function soap(base: string, operation: string, params: Record<string, Param> = {}): Promise<SoapAnswer> {
  return soapRaw(base, envelope(operation, params), { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${SS}/${operation}"` });
}

async function authenticate(base: string, username = API_USER, password = API_PASSWORD, domain = ''): Promise<string> {
  const answer = await soap(base, 'Authenticate', { username, password, organization: '', domain });
  expect(errorsOf(answer)).toEqual([]);
  const token = txt(answer.result, 'Token');
  if (!token) throw new Error('no token');
  return token;
}

function impersonate(base: string, token: string, username: string, domain = ''): Promise<SoapAnswer> {
  return soap(base, 'ImpersonateUser', { token, username, organization: '', domain });
}

async function userToken(base: string, username: string, domain = ''): Promise<string> {
  const answer = await impersonate(base, await authenticate(base), username, domain);
  expect(errorsOf(answer)).toEqual([]);
  const token = txt(answer.result, 'Token');
  if (!token) throw new Error('no impersonation token');
  return token;
}

const names = (answer: SoapAnswer): string[] => kids(kid(answer.result, 'SecretSummaries'), 'SecretSummary').map((s) => txt(s, 'SecretName') ?? '');

function searchByField(base: string, token: string, fieldName: string, searchTerm: string, showRestricted = false, showDeleted = false): Promise<SoapAnswer> {
  return soap(base, 'SearchSecretsByFieldValue', { token, fieldName, searchTerm, showDeleted, showRestricted });
}

function getSecret(base: string, token: string, secretId: number, extra: Record<string, Param> = {}): Promise<SoapAnswer> {
  return soap(base, 'GetSecret', { token, secretId, loadSettingsAndPermissions: false, ...extra });
}

const trustAction = (origin: string, user: string, action: string, apiUser?: string): Promise<Response> =>
  fetch(`${origin}/_sim/trust/${encodeURIComponent(user)}/${action}${apiUser ? `?apiUser=${encodeURIComponent(apiUser)}` : ''}`, { method: 'POST' });

const control = async (origin: string, path: string): Promise<Record<string, unknown>> => (await (await fetch(`${origin}/_sim/${path}`)).json()) as Record<string, unknown>;


function restToken(base: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${base}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}

async function bearer(base: string, username = API_USER, password = API_PASSWORD, domain?: string): Promise<string> {
  const res = await restToken(base, { grant_type: 'password', username, password, ...(domain ? { domain } : {}) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

const rest = (base: string, path: string, token: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${base}/api/v1/${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });

const postJson = (base: string, path: string, token: string, body: unknown): Promise<Response> =>
  rest(base, path, token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface RestRecord {
  id: number;
  name: string;
  extendedFields: { name: string; value: string }[] | null;
  [key: string]: unknown;
}

interface RestItem {
  slug: string;
  itemValue: string;
  [key: string]: unknown;
}

describe('SOAP transport', () => {
  it('answers a SOAP 1.1 envelope with OpResponse/OpResult in the service namespace, as text/xml', async () => {
    const { base } = await start();
    const answer = await soap(base, 'VersionGet');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('text/xml; charset=utf-8');
    expect(answer.text).toBe(
      '<?xml version="1.0" encoding="utf-8"?>' +
        `<soap:Envelope xmlns:soap="${SOAP_ENV}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
        `<soap:Body><VersionGetResponse xmlns="${SS}"><VersionGetResult><Errors /><Version>11.7.000005</Version></VersionGetResult></VersionGetResponse></soap:Body>` +
        '</soap:Envelope>',
    );
  });

  it('serves the endpoint path case-insensitively, the way IIS does', async () => {
    const { base } = await start();
    const url = new URL(base);
    const lower = `${url.origin}${url.pathname.toLowerCase()}`;
    const answer = await soapRaw(lower, envelope('VersionGet', {}), { 'content-type': 'text/xml', soapaction: `${SS}/VersionGet` }, '/WEBSERVICES/sswebservice.ASMX');
    expect(answer.status).toBe(200);
    expect(txt(answer.result, 'Version')).toBe('11.7.000005');
  });

  it('reads prefixed envelopes, CDATA and character references', async () => {
    const seed: SimSeed = { users: [{ id: 1, username: 'odd', password: 'p<&>"\'; ]]>x' }] };
    const { base } = await start({ seed });
    const body =
      `<s:Envelope xmlns:s="${SOAP_ENV}"><s:Header/><s:Body><tns:Authenticate xmlns:tns="${SS}">` +
      '<!-- a comment --><tns:username>o&#x64;d</tns:username><tns:password><![CDATA[p<&>"\'; ]]]]><![CDATA[>x]]></tns:password>' +
      '<tns:organization/><tns:domain xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></tns:Authenticate></s:Body></s:Envelope>';
    const answer = await soapRaw(base, body, { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${SS}/Authenticate"` });
    expect(errorsOf(answer)).toEqual([]);
    expect(txt(answer.result, 'Token')).toMatch(/^\S{20,}$/);
  });

  it('ignores parameters outside the service namespace, as elementFormDefault="qualified" does', async () => {
    const { base } = await start();
    const body =
      `<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><tns:Authenticate xmlns:tns="${SS}">` +
      `<username>${API_USER}</username><password>${API_PASSWORD}</password></tns:Authenticate></soap:Body></soap:Envelope>`;
    const answer = await soapRaw(base, body, { 'content-type': 'text/xml', soapaction: `${SS}/Authenticate` });
    expect(answer.status).toBe(200);
    expect(errorsOf(answer)).toEqual(['Login failed.']);
  });

  it('answers a SOAP Fault with HTTP 500 to unreadable requests', async () => {
    const { base } = await start();
    const headers = (operation: string): Record<string, string> => ({ 'content-type': 'text/xml', soapaction: `"${SS}/${operation}"` });
    const cases: [string, Record<string, string>, RegExp][] = [
      ['<soap:Envelope', headers('VersionGet'), /There is an error in XML document \(1, \d+\)/],
      ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', headers('VersionGet'), /Document type declarations are not allowed/],
      ['<Envelope><Body/></Envelope>', headers('VersionGet'), /not a SOAP 1.1 Envelope/],
      [`<e:Envelope xmlns:e="${SOAP_ENV}"><e:Body><x:VersionGet xmlns:x="urn:other"/></e:Body></e:Envelope>`, headers('VersionGet'), /<VersionGet xmlns='urn:thesecretserver.com'> was expected/],
      [envelope('VersionGet', {}), headers('WhoAmI'), /<WhoAmI xmlns='urn:thesecretserver.com'> was expected/],
      [envelope('VersionGet', {}), { 'content-type': 'text/xml' }, /did not recognize the value of HTTP Header SOAPAction: \./],
      [envelope('AddSecret', {}), headers('AddSecret'), /did not recognize the value of HTTP Header SOAPAction: urn:thesecretserver.com\/AddSecret\./],
      [envelope('GetSecret', { token: 't', secretId: 'abc' }), headers('GetSecret'), /Input string was not in a correct format/],
      [envelope('SearchSecrets', { token: 't', searchTerm: '', includeDeleted: 'yes' }), headers('SearchSecrets'), /'yes' is not a valid Boolean value/],
      [`<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><a:VersionGet/></soap:Body></soap:Envelope>`, headers('VersionGet'), /'a' is an undeclared prefix/],
      [`<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><x></y></soap:Body></soap:Envelope>`, headers('VersionGet'), /does not match/],
    ];
    for (const [body, hdrs, message] of cases) {
      const answer = await soapRaw(base, body, hdrs);
      expect(answer.status).toBe(500);
      expect(answer.fault?.code).toBe('soap:Client');
      expect(answer.fault?.message).toMatch(message);
    }
    const soap12 = await soapRaw(
      base,
      '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body/></env:Envelope>',
      headers('VersionGet'),
    );
    expect(soap12.status).toBe(500);
    expect(soap12.fault?.code).toBe('soap:VersionMismatch');
  });

  it('refuses anything but text/xml with 415', async () => {
    const { base } = await start();
    const res = await fetch(`${base}/webservices/SSWebService.asmx`, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml', soapaction: `${SS}/VersionGet` },
      body: envelope('VersionGet', {}),
    });
    expect(res.status).toBe(415);
  });
});

describe('SOAP Authenticate, GetTokenIsValid, WhoAmI', () => {
  it('signs in local and domain users; the domain goes in its own argument, by NetBIOS name or FQDN', async () => {
    const { base } = await start();
    expect(await authenticate(base)).toMatch(/^\S{20,}$/);
    const domainApi = await authenticate(base, 'svc-openecm', 'svc-openecm-demo-pass', 'CORP');
    expect(errorsOf(await impersonate(base, domainApi, 'alice', 'CORP'))[0]).toMatch(/'CORP\\svc-openecm' yet\. The request is pending approval\.$/);
    const origin = new URL(base).origin;
    expect((await trustAction(origin, 'CORP\\alice', 'approve')).status).toBe(409);
    expect(await (await trustAction(origin, 'CORP\\alice', 'approve', 'CORP\\svc-openecm')).json()).toMatchObject({ state: 'approved' });
    expect(errorsOf(await impersonate(base, domainApi, 'alice', 'CORP'))).toEqual([]);
    for (const domain of ['CORP', 'corp', 'corp.example']) {
      const token = await authenticate(base, 'alice', 'alice-demo-pass', domain);
      const me = await soap(base, 'WhoAmI', { token });
      expect(txt(me.result, 'KnownAs')).toBe('CORP\\alice');
    }
  });

  it('fails with HTTP 200 and a non-empty Errors list, never a fault, and no Token', async () => {
    const { sim, base } = await start();
    const attempts: [string, string, string][] = [
      [API_USER, 'wrong', ''],
      ['nobody', 'x', ''],
      ['CORP\\alice', 'alice-demo-pass', ''],
      ['alice@corp.example', 'alice-demo-pass', ''],
      ['alice', 'alice-demo-pass', ''],
      ['alice', 'alice-demo-pass', 'NOWHERE'],
    ];
    for (const [username, password, domain] of attempts) {
      const answer = await soap(base, 'Authenticate', { username, password, organization: '', domain });
      expect(answer.status).toBe(200);
      expect(errorsOf(answer)).toEqual(['Login failed.']);
      expect(kid(answer.result, 'Token')).toBeUndefined();
      expect(answer.text).toContain('<Errors><string>Login failed.</string></Errors>');
    }
    expect(sim.state.stats().authenticate).toEqual({
      total: 6,
      failed: 6,
      byUser: { [API_USER]: 1, nobody: 1, 'CORP\\alice': 1, 'alice@corp.example': 1, alice: 1, 'NOWHERE\\alice': 1 },
    });
  });

  it('requires the organization when the install has one', async () => {
    const { base } = await start({ seed: { organization: 'ACME', users: [{ id: 1, username: 'api', password: 'pw' }] } });
    const without = await soap(base, 'Authenticate', { username: 'api', password: 'pw', organization: '', domain: '' });
    expect(errorsOf(without)).toEqual(['Login failed.']);
    const withOrg = await soap(base, 'Authenticate', { username: 'api', password: 'pw', organization: 'acme', domain: '' });
    expect(errorsOf(withOrg)).toEqual([]);
  });

  it('reports a token valid with its remaining lifetime and the version, and says so when it is not', async () => {
    const { base } = await start({ tokenTtlMs: 120_000 });
    const token = await authenticate(base);
    const valid = await soap(base, 'GetTokenIsValid', { token });
    expect(errorsOf(valid)).toEqual([]);
    expect(Number(txt(valid.result, 'MaxOfflineSeconds'))).toBeGreaterThan(110);
    expect(Number(txt(valid.result, 'MaxOfflineSeconds'))).toBeLessThanOrEqual(120);
    expect(txt(valid.result, 'Version')).toBe('11.7.000005');
    const bogus = await soap(base, 'GetTokenIsValid', { token: 'made-up' });
    expect(errorsOf(bogus)).toEqual(['Token is invalid or has expired.']);
    expect(txt(bogus.result, 'MaxOfflineSeconds')).toBe('0');
  });

  it('tells WhoAmI the signed-in user, and refuses a missing token', async () => {
    const { base } = await start();
    const me = await soap(base, 'WhoAmI', { token: await authenticate(base) });
    expect(errorsOf(me)).toEqual([]);
    expect({
      DisplayName: txt(me.result, 'DisplayName'),
      UserName: txt(me.result, 'UserName'),
      KnownAs: txt(me.result, 'KnownAs'),
      UserId: txt(me.result, 'UserId'),
      DomainId: txt(me.result, 'DomainId'),
      DomainName: txt(me.result, 'DomainName'),
    }).toEqual({ DisplayName: 'OpenECM API account', UserName: API_USER, KnownAs: API_USER, UserId: '1', DomainId: '-1', DomainName: undefined });
    const anonymous = await soap(base, 'WhoAmI');
    expect(errorsOf(anonymous)).toEqual(['Token is invalid or has expired.']);
  });
});

describe('ImpersonateUser and delegated trust', () => {
  it('gives a token for an approved user that acts as that user', async () => {
    const { sim, base } = await start();
    const answer = await impersonate(base, await authenticate(base), 'alice', 'CORP');
    expect(errorsOf(answer)).toEqual([]);
    expect(kid(answer.result, 'AuthorizeURL')).toBeUndefined();
    const token = txt(answer.result, 'Token') ?? '';
    expect(txt((await soap(base, 'WhoAmI', { token })).result, 'KnownAs')).toBe('CORP\\alice');
    expect(sim.state.stats().impersonate).toMatchObject({ total: 1, failed: 0, byUser: { 'CORP\\alice': 1 } });
  });

  it('answers a pending user with an error and the same AuthorizeURL on every call', async () => {
    const { sim, base, origin } = await start();
    const api = await authenticate(base);
    const first = await impersonate(base, api, 'bob', 'CORP');
    expect(first.status).toBe(200);
    expect(errorsOf(first)).toEqual(["User 'CORP\\bob' has not approved access for the application 'openecm-api' yet. The request is pending approval."]);
    expect(kid(first.result, 'Token')).toBeUndefined();
    const url = txt(first.result, 'AuthorizeURL');
    expect(url).toBe(`${base}/ApplicationAccess.aspx?request=demo-bob-request`);
    expect(txt((await impersonate(base, api, 'bob', 'CORP')).result, 'AuthorizeURL')).toBe(url);
    const page = await fetch(url ?? '');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('pending');
    expect(sim.state.stats().impersonate).toMatchObject({ total: 2, failed: 2, pendingCreated: 0 });
    expect((await fetch(`${origin}/_sim/trust`).then((r) => r.json())) as unknown).toMatchObject({
      trust: expect.arrayContaining([expect.objectContaining({ user: 'CORP\\bob', state: 'pending', requestId: 'demo-bob-request' })]),
    });
  });

  it('walks none -> pending -> approved for a user who was never asked', async () => {
    const { sim, base, origin } = await start();
    const api = await authenticate(base);
    expect((await trustAction(origin, 'CORP\\frank', 'approve')).status).toBe(404);
    const first = await impersonate(base, api, 'frank', 'corp.example');
    expect(errorsOf(first)[0]).toMatch(/pending approval/);
    expect(txt(first.result, 'AuthorizeURL')).toMatch(new RegExp(`^${base}/ApplicationAccess\\.aspx\\?request=[0-9a-f-]{36}$`));
    expect(sim.state.stats().impersonate.pendingCreated).toBe(1);
    const approve = await trustAction(origin, 'CORP\\frank', 'approve');
    expect(approve.status).toBe(200);
    expect(await approve.json()).toMatchObject({ apiUser: API_USER, user: 'CORP\\frank', state: 'approved' });
    const after = await impersonate(base, api, 'frank', 'CORP');
    expect(errorsOf(after)).toEqual([]);
    expect(txt(after.result, 'Token')).toBeTruthy();
    expect(sim.state.stats().impersonate.pendingCreated).toBe(1);
  });

  it('walks pending -> denied, and lets the user approve after all', async () => {
    const { base, origin } = await start();
    const api = await authenticate(base);
    const deny = await fetch(`${origin}/_sim/trust/CORP%5Cbob/deny`, { method: 'POST' });
    expect(await deny.json()).toMatchObject({ state: 'denied' });
    const denied = await impersonate(base, api, 'bob', 'CORP');
    expect(errorsOf(denied)).toEqual(["User 'CORP\\bob' denied access for the application 'openecm-api'."]);
    expect(kid(denied.result, 'AuthorizeURL')).toBeUndefined();
    expect(kid(denied.result, 'Token')).toBeUndefined();
    const carol = await impersonate(base, api, 'carol', 'CORP');
    expect(errorsOf(carol)[0]).toMatch(/denied access/);
    expect((await trustAction(origin, 'CORP\\carol', 'approve')).status).toBe(200);
    expect(errorsOf(await impersonate(base, api, 'carol', 'CORP'))).toEqual([]);
  });

  it('walks approved -> revoked: tokens already issued die, new ones are refused, and re-approval heals', async () => {
    const { base, origin } = await start();
    const api = await authenticate(base);
    const token = txt((await impersonate(base, api, 'alice', 'CORP')).result, 'Token') ?? '';
    expect(names(await searchByField(base, token, 'Machine', 'srv-app01'))).toEqual(['srv-app01 Administrator']);
    const revoke = await trustAction(origin, 'CORP\\alice', 'revoke');
    expect(await revoke.json()).toMatchObject({ state: 'revoked' });
    const dead = await searchByField(base, token, 'Machine', 'srv-app01');
    expect(errorsOf(dead)).toEqual(['Token is invalid or has expired.']);
    expect(kid(dead.result, 'SecretSummaries')).toBeUndefined();
    const again = await impersonate(base, api, 'alice', 'CORP');
    expect(errorsOf(again)).toEqual(["User 'CORP\\alice' revoked access for the application 'openecm-api'."]);
    expect(kid(again.result, 'AuthorizeURL')).toBeUndefined();
    expect(errorsOf(await impersonate(base, api, 'grace', 'CORP'))[0]).toMatch(/revoked access/);
    expect((await trustAction(origin, 'CORP\\alice', 'approve')).status).toBe(200);
    expect(errorsOf(await impersonate(base, api, 'alice', 'CORP'))).toEqual([]);
  });

  it('refuses transitions the end user cannot make', async () => {
    const { origin } = await start();
    const cases: [string, string, number][] = [
      ['CORP\\alice', 'deny', 409],
      ['CORP\\bob', 'revoke', 409],
      ['CORP\\carol', 'revoke', 409],
      ['CORP\\nobody', 'approve', 404],
      ['CORP\\frank', 'revoke', 404],
      ['CORP\\alice', 'explode', 404],
    ];
    for (const [user, action, status] of cases) {
      const res = await trustAction(origin, user, action);
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ error: expect.any(String) });
    }
    expect((await trustAction(origin, 'CORP\\alice', 'approve', 'nobody')).status).toBe(404);
    expect((await trustAction(origin, 'CORP\\alice', 'approve', API_USER)).status).toBe(200);
  });

  it('refuses an API account without "Web Services Impersonate", and impersonation from an impersonated token', async () => {
    const { base } = await start();
    const weak = await authenticate(base, 'svc-noimpersonate', 'svc-noimpersonate-demo-pass');
    const refused = await impersonate(base, weak, 'alice', 'CORP');
    expect(errorsOf(refused)).toEqual(["Access Denied: the role permission 'Web Services Impersonate' is required to impersonate users."]);
    expect(kid(refused.result, 'Token')).toBeUndefined();
    const alice = await userToken(base, 'alice', 'CORP');
    expect(errorsOf(await impersonate(base, alice, 'dave'))[0]).toMatch(/Web Services Impersonate/);
    expect(errorsOf(await impersonate(base, 'made-up', 'dave'))).toEqual(['Token is invalid or has expired.']);
  });

  it('says "not found" for users that do not exist in that form, so a caller can fall back', async () => {
    const { base } = await start();
    const api = await authenticate(base);
    expect(errorsOf(await impersonate(base, api, 'dave', 'CORP'))).toEqual(["User 'CORP\\dave' not found."]);
    expect(errorsOf(await impersonate(base, api, 'alice'))).toEqual(["User 'alice' not found."]);
    expect(errorsOf(await impersonate(base, api, 'CORP\\alice'))).toEqual(["User 'CORP\\alice' not found."]);
    expect(errorsOf(await impersonate(base, api, 'dave'))).toEqual([]);
  });

  it('keeps a local user and a domain user of the same name apart', async () => {
    const { base } = await start();
    const corpErin = await userToken(base, 'erin', 'CORP');
    const localErin = await userToken(base, 'erin');
    expect(txt((await soap(base, 'WhoAmI', { token: corpErin })).result, 'DisplayName')).toBe('Erin Example (CORP)');
    expect(txt((await soap(base, 'WhoAmI', { token: localErin })).result, 'DisplayName')).toBe('Erin Local');
    expect(names(await searchByField(base, corpErin, 'Machine', 'lnx-web01'))).toEqual(['lnx-web01 root']);
    expect(names(await searchByField(base, localErin, 'Machine', 'lnx-web01'))).toEqual(['lnx-web01 erin']);
  });
});

describe('SOAP searches', () => {
  it('finds machine secrets by field value with the summary shape', async () => {
    const { base } = await start();
    const alice = await userToken(base, 'alice', 'CORP');
    const answer = await searchByField(base, alice, 'Machine', 'srv-app01');
    expect(errorsOf(answer)).toEqual([]);
    const summaries = kids(kid(answer.result, 'SecretSummaries'), 'SecretSummary');
    expect(summaries).toHaveLength(1);
    expect(Object.fromEntries((summaries[0]?.children ?? []).map((c) => [c.local, c.text]))).toEqual({
      SecretId: '101',
      SecretName: 'srv-app01 Administrator',
      SecretTypeName: 'Windows Account',
      SecretTypeId: '6003',
      FolderId: '2',
      IsRestricted: 'false',
    });
  });

  it('shows restricted secrets (check-out, comment) only with showRestricted, and deleted ones only with showDeleted', async () => {
    const { base } = await start();
    const alice = await userToken(base, 'alice', 'CORP');
    expect(names(await searchByField(base, alice, 'Machine', 'srv-app01', true))).toEqual([
      'srv-app01 Administrator',
      'srv-app01 breakglass (comment)',
      'srv-app01 svc-deploy (check-out)',
    ]);
    const restricted = kids(kid((await searchByField(base, alice, 'Machine', 'srv-app01', true)).result, 'SecretSummaries'), 'SecretSummary');
    expect(restricted.map((s) => txt(s, 'IsRestricted'))).toEqual(['false', 'true', 'true']);
    expect(names(await searchByField(base, alice, 'Machine', 'srv-old01'))).toEqual([]);
    expect(names(await searchByField(base, alice, 'Machine', 'srv-old01', false, true))).toEqual(['srv-old01 Administrator (deleted)']);
  });

  it('matches the whole value, case-insensitively, on the named field only, never on passwords', async () => {
    const { base } = await start();
    const alice = await userToken(base, 'alice', 'CORP');
    expect(names(await searchByField(base, alice, 'machine', 'SRV-APP01'))).toEqual(['srv-app01 Administrator']);
    expect(names(await searchByField(base, alice, 'Machine', 'srv-app0'))).toEqual([]);
    expect(names(await searchByField(base, alice, 'Username', 'srv-app01'))).toEqual([]);
    expect(names(await searchByField(base, alice, 'Password', 'Demo-Administrator-srv-app01!'))).toEqual([]);
    expect(names(await searchByField(base, alice, 'NoSuchField', 'x'))).toEqual([]);
  });

  it('finds domain secrets by the Domain field, for users allowed to see them', async () => {
    const { base } = await start();
    const alice = await userToken(base, 'alice', 'CORP');
    expect(names(await searchByField(base, alice, 'Domain', 'CORP'))).toEqual(['CORP pra-admin']);
    expect(names(await searchByField(base, alice, 'Domain', 'LAB'))).toEqual(['LAB lab-admin']);
    const dave = await userToken(base, 'dave');
    expect(names(await searchByField(base, dave, 'Domain', 'CORP'))).toEqual([]);
  });

  it('applies folder and secret permissions: inherited from parents, listed users and groups, or the secret alone', async () => {
    const { base } = await start();
    const dave = await userToken(base, 'dave');
    expect(names(await searchByField(base, dave, 'Machine', 'srv-app01', true))).toHaveLength(3);
    const bob = await impersonateApproved(base, 'bob');
    expect(names(await searchByField(base, bob, 'Machine', 'srv-app01', true))).toEqual(['srv-app01 Administrator']);
    expect(names(await searchByField(base, bob, 'Machine', 'lnx-web01'))).toEqual(['lnx-web01 root']);
    const localErin = await userToken(base, 'erin');
    expect(names(await soap(base, 'SearchSecrets', { token: localErin, searchTerm: '', includeDeleted: true, includeRestricted: true }))).toEqual([
      'lnx-web01 erin',
    ]);
  });

  it('SearchSecrets matches part of the name or of a non-secret field', async () => {
    const { base } = await start();
    const api = await authenticate(base);
    const search = (searchTerm: string, includeRestricted = false): Promise<SoapAnswer> =>
      soap(base, 'SearchSecrets', { token: api, searchTerm, includeDeleted: false, includeRestricted });
    expect(names(await search('LNX-web'))).toEqual(['lnx-web01 root']);
    expect(names(await search('pra-'))).toEqual(['CORP pra-admin']);
    expect(names(await search('svc-deploy'))).toEqual([]);
    expect(names(await search('svc-deploy', true))).toEqual(['srv-app01 svc-deploy (check-out)']);
    expect(names(await search('Demo-'))).toEqual([]);
    const invalid = await soap(base, 'SearchSecrets', { token: 'nope', searchTerm: '', includeDeleted: false, includeRestricted: false });
    expect(errorsOf(invalid)).toEqual(['Token is invalid or has expired.']);
  });
});

/** Approves a user through the control API first, then impersonates: the flow a test would drive. */
async function impersonateApproved(base: string, name: string): Promise<string> {
  const origin = new URL(base).origin;
  expect((await trustAction(origin, `CORP\\${name}`, 'approve')).status).toBe(200);
  return userToken(base, name, 'CORP');
}

describe('SOAP GetSecret', () => {
  it('returns the secret with its items; settings and permissions only when asked', async () => {
    const { base } = await start();
    const alice = await userToken(base, 'alice', 'CORP');
    const answer = await getSecret(base, alice, SRV_APP01_ADMIN);
    expect(errorsOf(answer)).toEqual([]);
    expect(kid(answer.result, 'SecretError')).toBeUndefined();
    const secret = kid(answer.result, 'Secret');
    expect(txt(secret, 'Name')).toBe('srv-app01 Administrator');
    expect(txt(secret, 'Id')).toBe('101');
    expect(txt(secret, 'SecretTypeId')).toBe('6003');
    expect(txt(secret, 'FolderId')).toBe('2');
    expect(txt(secret, 'IsRestricted')).toBe('false');
    expect(isNil(kid(secret, 'IsCheckedOut'))).toBe(true);
    expect(isNil(kid(secret, 'CheckOutMinutesRemaining'))).toBe(true);
    expect(kid(secret, 'SecretSettings')).toBeUndefined();
    const items = kids(kid(secret, 'Items'), 'SecretItem').map((item) => Object.fromEntries(item.children.map((c) => [c.local, c.text])));
    expect(items).toEqual([
      { Value: 'srv-app01', Id: '101108', FieldId: '108', FieldName: 'Machine', IsFile: 'false', IsNotes: 'false', IsPassword: 'false', FieldDisplayName: 'Machine' },
      { Value: 'Administrator', Id: '101111', FieldId: '111', FieldName: 'Username', IsFile: 'false', IsNotes: 'false', IsPassword: 'false', FieldDisplayName: 'Username' },
      { Value: 'Demo-Administrator-srv-app01!', Id: '101110', FieldId: '110', FieldName: 'Password', IsFile: 'false', IsNotes: 'false', IsPassword: 'true', FieldDisplayName: 'Password' },
      { Value: 'Built-in local administrator', Id: '101109', FieldId: '109', FieldName: 'Notes', IsFile: 'false', IsNotes: 'true', IsPassword: 'false', FieldDisplayName: 'Notes' },
    ]);
    const detailed = kid((await getSecret(base, alice, SRV_APP01_ADMIN, { loadSettingsAndPermissions: true })).result, 'Secret');
    expect(txt(kid(detailed, 'SecretSettings'), 'CheckOutEnabled')).toBe('false');
    expect(txt(kid(detailed, 'SecretSettings'), 'RequiresComment')).toBe('false');
    expect(txt(kid(detailed, 'SecretPermissions'), 'CurrentUserHasView')).toBe('true');
  });

  it('gives a file field its attachment name, not its content', async () => {
    const { base } = await start();
    const answer = await getSecret(base, await authenticate(base), LNX_WEB01_ROOT);
    const key = kids(kid(kid(answer.result, 'Secret'), 'Items'), 'SecretItem').find((i) => txt(i, 'FieldName') === 'Private Key');
    expect(txt(key, 'IsFile')).toBe('true');
    expect(txt(key, 'Value')).toBe('private-key.txt');
  });

  it('answers "Access Denied" alike for a forbidden, unknown or deleted secret', async () => {
    const { base } = await start();
    const dave = await userToken(base, 'dave');
    for (const id of [CORP_PRA_ADMIN, 9999, 108]) {
      const answer = await getSecret(base, dave, id);
      expect(answer.status).toBe(200);
      expect(errorsOf(answer)).toEqual(['Access Denied']);
      expect(kid(answer.result, 'Secret')).toBeUndefined();
      expect(kid(answer.result, 'SecretError')).toBeUndefined();
    }
  });

  it('demands a comment for a restricted secret through SecretError, and accepts it in codeResponses', async () => {
    const { base, origin } = await start();
    const alice = await userToken(base, 'alice', 'CORP');
    const refused = await getSecret(base, alice, COMMENT_SECRET);
    expect(errorsOf(refused)).toEqual(['The requested Secret requires a comment when viewed.']);
    expect(kid(refused.result, 'Secret')).toBeUndefined();
    expect(Object.fromEntries((kid(refused.result, 'SecretError')?.children ?? []).map((c) => [c.local, c.text]))).toEqual({
      ErrorCode: 'COMMENT',
      ErrorMessage: 'The requested Secret requires a comment when viewed.',
      AllowsResponse: 'true',
      CommentTitle: 'Comment',
      AdditionalCommentTitle: '',
    });
    const codes = (errorCode: string, comment: string): Param => ({
      raw: serializeXml(el('CodeResponse', [leaf('ErrorCode', errorCode), leaf('Comment', comment), leaf('AdditionalComment', '')])),
    });
    expect(errorsOf(await getSecret(base, alice, COMMENT_SECRET, { codeResponses: codes('CHECKOUT', 'ticket 42') }))).toHaveLength(1);
    expect(errorsOf(await getSecret(base, alice, COMMENT_SECRET, { codeResponses: codes('COMMENT', '   ') }))).toHaveLength(1);
    const granted = await getSecret(base, alice, COMMENT_SECRET, { codeResponses: codes('COMMENT', 'remote access session 42') });
    expect(errorsOf(granted)).toEqual([]);
    expect(itemText(granted, 'Password')).toBe('Demo-breakglass-srv-app01!');
    const view = await control(origin, `secrets/${COMMENT_SECRET}`);
    expect(view['accessLog']).toEqual([expect.objectContaining({ user: 'CORP\\alice', action: 'view', channel: 'soap', comment: 'remote access session 42' })]);
  });
});

function itemText(answer: SoapAnswer, fieldName: string): string | undefined {
  const item = kids(kid(kid(answer.result, 'Secret'), 'Items'), 'SecretItem').find((i) => txt(i, 'FieldName') === fieldName);
  return txt(item, 'Value');
}

describe('check-out and check-in over SOAP', () => {
  it('checks out on GetSecret, blocks other users, releases on CheckIn and rotates the password', async () => {
    const { sim, base, origin } = await start();
    const alice = await userToken(base, 'alice', 'CORP');
    const dave = await userToken(base, 'dave');
    const first = await getSecret(base, alice, CHECKOUT_SECRET);
    expect(errorsOf(first)).toEqual([]);
    const secret = kid(first.result, 'Secret');
    expect(txt(secret, 'IsCheckedOut')).toBe('true');
    expect(txt(secret, 'CheckOutMinutesRemaining')).toBe('30');
    expect(txt(secret, 'CheckOutUserDisplayName')).toBe('Alice Example');
    expect(txt(secret, 'CheckOutUserId')).toBe('11');
    const password = itemText(first, 'Password');
    expect(password).toBe('Demo-svc-deploy-srv-app01!');

    const blocked = await getSecret(base, dave, CHECKOUT_SECRET);
    expect(errorsOf(blocked)).toEqual(['The Secret is checked out by Alice Example.']);
    expect(txt(kid(blocked.result, 'SecretError'), 'ErrorCode')).toBe('CHECKEDOUT');
    expect(txt(kid(blocked.result, 'SecretError'), 'AllowsResponse')).toBe('false');
    expect(kid(blocked.result, 'Secret')).toBeUndefined();

    const status = await soap(base, 'GetCheckOutStatus', { token: dave, secretId: CHECKOUT_SECRET });
    expect(errorsOf(status)).toEqual([]);
    expect(txt(status.result, 'IsCheckedOut')).toBe('true');
    expect(txt(status.result, 'CheckOutUserDisplayName')).toBe('Alice Example');
    expect(txt(status.result, 'CheckOutMinutesRemaining')).toBe('30');
    expect(kid(status.result, 'Secret')).toBeUndefined();

    expect(errorsOf(await soap(base, 'CheckIn', { token: dave, secretId: CHECKOUT_SECRET }))).toEqual(['The Secret is checked out by Alice Example.']);
    expect(errorsOf(await soap(base, 'CheckIn', { token: alice, secretId: CHECKOUT_SECRET }))).toEqual([]);
    const released = await control(origin, `secrets/${CHECKOUT_SECRET}`);
    expect(released).toMatchObject({ checkedOut: false, checkedOutBy: null, rotations: 1 });
    expect(released['password']).not.toBe(password);
    expect(sim.state.passwordOf(CHECKOUT_SECRET)).toBe(released['password']);

    const daveRead = await getSecret(base, dave, CHECKOUT_SECRET);
    expect(txt(kid(daveRead.result, 'Secret'), 'CheckOutUserDisplayName')).toBe('Dave Local');
    expect(itemText(daveRead, 'Password')).toBe(released['password']);
    const free = await soap(base, 'GetCheckOutStatus', { token: alice, secretId: SRV_APP01_ADMIN });
    expect(txt(free.result, 'IsCheckedOut')).toBe('false');
    expect(errorsOf(await soap(base, 'CheckIn', { token: alice, secretId: SRV_APP01_ADMIN }))).toEqual([]);
  });

  it('keeps, not renews, the holder’s check-out on a repeat read, and releases it when the interval runs out', async () => {
    const { sim, base, origin } = await start();
    const alice = await userToken(base, 'alice', 'CORP');
    await getSecret(base, alice, CHECKOUT_SECRET);
    sim.state.advanceClock(10 * 60_000);
    const again = await getSecret(base, alice, CHECKOUT_SECRET);
    expect(txt(kid(again.result, 'Secret'), 'CheckOutMinutesRemaining')).toBe('20');
    await postControl(origin, 'clock', { advanceMs: 20 * 60_000 });
    expect(await control(origin, `secrets/${CHECKOUT_SECRET}`)).toMatchObject({ checkedOut: false, rotations: 1 });
    const log = (await control(origin, `secrets/${CHECKOUT_SECRET}`))['accessLog'] as { action: string }[];
    expect(log.map((e) => e.action)).toEqual(['checkout', 'view', 'view', 'expired']);
  });

  it('refuses GetCheckOutStatus and CheckIn to users who cannot see the secret', async () => {
    const { base } = await start();
    const bob = await impersonateApproved(base, 'bob');
    expect(errorsOf(await soap(base, 'GetCheckOutStatus', { token: bob, secretId: CHECKOUT_SECRET }))).toEqual(['Access Denied']);
    expect(errorsOf(await soap(base, 'CheckIn', { token: bob, secretId: CHECKOUT_SECRET }))).toEqual(['Access Denied']);
  });
});

describe('token expiry', () => {
  it('expires SOAP and REST tokens after tokenTtlMs in real time', async () => {
    const tokenTtlMs = 1500;
    const { base } = await start({ tokenTtlMs });
    const token = await authenticate(base);
    const res = await restToken(base, { grant_type: 'password', username: API_USER, password: API_PASSWORD });
    const grant = (await res.json()) as { access_token: string; expires_in: number };
    expect(grant.expires_in).toBe(1);
    expect(errorsOf(await soap(base, 'GetTokenIsValid', { token }))).toEqual([]);
    expect((await rest(base, 'secrets', grant.access_token)).status).toBe(200);
    await waitFor(async () => errorsOf(await soap(base, 'GetTokenIsValid', { token })).length > 0);
    let expired: Response | undefined;
    await waitFor(async () => {
      expired = await rest(base, 'secrets', grant.access_token);
      return expired.status !== 200;
    });
    expect(expired?.status).toBe(401);
    expect(await expired?.json()).toEqual({ message: 'Authentication failed.' });
  });

  it('expires tokens on simulator time, impersonation tokens included', async () => {
    const { sim, base } = await start({ tokenTtlMs: 60_000 });
    const api = await authenticate(base);
    const alice = await userToken(base, 'alice', 'CORP');
    sim.state.advanceClock(59_000);
    expect(errorsOf(await soap(base, 'WhoAmI', { token: api }))).toEqual([]);
    sim.state.advanceClock(2_000);
    for (const token of [api, alice]) expect(errorsOf(await soap(base, 'WhoAmI', { token }))).toEqual(['Token is invalid or has expired.']);
  });

  it('expires every token through the control API; refresh tokens survive unless asked', async () => {
    const { base, origin } = await start();
    const soapToken = await authenticate(base);
    const grant = (await (await restToken(base, { grant_type: 'password', username: API_USER, password: API_PASSWORD })).json()) as {
      access_token: string;
      refresh_token: string;
    };
    const expire = await fetch(`${origin}/_sim/tokens/expire`, { method: 'POST' });
    expect(await expire.json()).toEqual({ expired: 2 });
    expect(errorsOf(await soap(base, 'WhoAmI', { token: soapToken }))).toEqual(['Token is invalid or has expired.']);
    expect((await rest(base, 'secrets', grant.access_token)).status).toBe(401);
    const refreshed = await restToken(base, { grant_type: 'refresh_token', refresh_token: grant.refresh_token });
    expect(refreshed.status).toBe(200);
    const all = await fetch(`${origin}/_sim/tokens/expire`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"includeRefresh":true}' });
    expect(await all.json()).toEqual({ expired: 2 });
  });
});

describe('REST sign-in', () => {
  it('issues a bearer token for the password grant', async () => {
    const { sim, base } = await start();
    const res = await restToken(base, { grant_type: 'password', username: API_USER, password: API_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ access_token: expect.any(String), refresh_token: expect.any(String), token_type: 'bearer', expires_in: 1200 });
    expect(sim.state.stats().restToken).toEqual({ total: 1, failed: 0, byUser: { [API_USER]: 1 } });
  });

  it('takes the domain in its own field: DOMAIN\\user in username fails with 400 "Login failed."', async () => {
    const { sim, base } = await start();
    const inline = await restToken(base, { grant_type: 'password', username: 'CORP\\alice', password: 'alice-demo-pass' });
    expect(inline.status).toBe(400);
    expect(await inline.text()).toBe('{"error":"Login failed."}');
    const upn = await restToken(base, { grant_type: 'password', username: 'alice@corp.example', password: 'alice-demo-pass' });
    expect(upn.status).toBe(400);
    for (const domain of ['CORP', 'corp.example']) {
      expect((await restToken(base, { grant_type: 'password', username: 'alice', password: 'alice-demo-pass', domain })).status).toBe(200);
    }
    const wrong = await restToken(base, { grant_type: 'password', username: 'alice', password: 'nope', domain: 'CORP' });
    expect(await wrong.json()).toEqual({ error: 'Login failed.' });
    expect(sim.state.stats().restToken).toEqual({ total: 5, failed: 3, byUser: { 'CORP\\alice': 4, 'alice@corp.example': 1 } });
  });

  it('rejects other grants and bodies that are not a form, and uses a refresh token once', async () => {
    const { base } = await start();
    expect(await (await restToken(base, { grant_type: 'client_credentials' })).json()).toEqual({ error: 'unsupported_grant_type' });
    const json = await fetch(`${base}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username: API_USER, password: API_PASSWORD }),
    });
    expect(json.status).toBe(400);
    const grant = (await (await restToken(base, { grant_type: 'password', username: API_USER, password: API_PASSWORD })).json()) as { refresh_token: string };
    const first = await restToken(base, { grant_type: 'refresh_token', refresh_token: grant.refresh_token });
    expect(first.status).toBe(200);
    const replay = await restToken(base, { grant_type: 'refresh_token', refresh_token: grant.refresh_token });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({ error: 'Login failed.' });
  });

  it('answers 401 {message} without a bearer token or with a bad one', async () => {
    const { base } = await start();
    const none = await fetch(`${base}/api/v1/secrets`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ message: 'Authentication failed.' });
    expect((await rest(base, 'secrets/101', 'bogus')).status).toBe(401);
  });
});

describe('REST secrets', () => {
  it('searches by field with exact match, extended fields and restricted secrets, answering partial summaries', async () => {
    const { base } = await start();
    const token = await bearer(base);
    const res = await rest(
      base,
      'secrets?filter.searchText=srv-app01&filter.searchField=Machine&filter.isExactMatch=true&filter.extendedFields=Machine&filter.extendedFields=Password&filter.includeRestricted=true&take=50',
      token,
    );
    expect(res.status).toBe(200);
    const page = (await res.json()) as { records: RestRecord[]; total: number; hasNext: boolean; take: number };
    expect(page).toMatchObject({ total: 3, take: 50, hasNext: false, success: true });
    expect(page.records.map((r) => r.name)).toEqual(['srv-app01 Administrator', 'srv-app01 breakglass (comment)', 'srv-app01 svc-deploy (check-out)']);
    expect(page.records[0]).toMatchObject({
      id: SRV_APP01_ADMIN,
      secretTemplateId: 6003,
      secretTemplateName: 'Windows Account',
      folderId: 2,
      active: true,
      checkedOut: false,
      isRestricted: false,
      extendedFields: [{ name: 'Machine', value: 'srv-app01' }],
    });
    expect(JSON.stringify(page)).not.toContain('Demo-');
    expect(page.records[0]).not.toHaveProperty('items');
    const plain = (await (await rest(base, 'secrets?filter.searchText=srv-app01&filter.searchField=machine&filter.isExactMatch=true', token)).json()) as {
      records: RestRecord[];
    };
    expect(plain.records.map((r) => r.id)).toEqual([SRV_APP01_ADMIN]);
    expect(plain.records[0]?.extendedFields).toBeNull();
  });

  it('matches partly without isExactMatch, by slug with searchFieldSlug, and pages with take/skip', async () => {
    const { base } = await start();
    const token = await bearer(base);
    const list = async (query: string): Promise<{ records: RestRecord[]; total: number; hasNext: boolean; hasPrev: boolean }> =>
      (await (await rest(base, `secrets?${query}`, token)).json()) as { records: RestRecord[]; total: number; hasNext: boolean; hasPrev: boolean };
    expect((await list('filter.searchText=SRV&filter.searchField=Machine')).records.map((r) => r.id)).toEqual([SRV_APP01_ADMIN]);
    expect((await list('filter.searchText=CORP&filter.searchFieldSlug=domain')).records.map((r) => r.id)).toEqual([CORP_PRA_ADMIN]);
    expect((await list('filter.searchText=nothing-like-this')).total).toBe(0);
    const all = await list('filter.includeRestricted=true');
    expect(all.total).toBe(6);
    expect(all.records).toHaveLength(6);
    const second = await list('filter.includeRestricted=true&take=2&skip=2');
    expect(second.records.map((r) => r.name)).toEqual(all.records.slice(2, 4).map((r) => r.name));
    expect(second).toMatchObject({ hasNext: true, hasPrev: true });
    expect((await rest(base, 'secrets?take=abc', token)).status).toBe(400);
    expect((await rest(base, 'secrets?filter.isExactMatch=maybe', token)).status).toBe(400);
  });

  it('defaults take to 10 records', async () => {
    const secrets = Array.from({ length: 12 }, (_, i) => ({
      id: i + 1,
      name: `host-${String(i).padStart(2, '0')}`,
      template: 'Windows Account',
      fields: { machine: `host-${i}` },
      permissions: { users: ['api'] },
    }));
    const { base } = await start({ seed: { users: [{ id: 1, username: 'api', password: 'pw' }], secrets } });
    const page = (await (await rest(base, 'secrets', await bearer(base, 'api', 'pw'))).json()) as { records: RestRecord[]; total: number; hasNext: boolean };
    expect(page).toMatchObject({ total: 12, hasNext: true });
    expect(page.records).toHaveLength(10);
  });

  it('gets a full secret with its items, and one field by slug', async () => {
    const { base } = await start();
    const token = await bearer(base);
    const res = await rest(base, `secrets/${SRV_APP01_ADMIN}`, token);
    expect(res.status).toBe(200);
    const secret = (await res.json()) as { items: RestItem[] } & Record<string, unknown>;
    expect(secret).toMatchObject({
      id: SRV_APP01_ADMIN,
      name: 'srv-app01 Administrator',
      folderId: 2,
      secretTemplateId: 6003,
      secretTemplateName: 'Windows Account',
      active: true,
      checkedOut: false,
      checkOutEnabled: false,
      checkOutIntervalMinutes: null,
      checkOutChangePasswordEnabled: false,
      requiresComment: false,
    });
    expect(secret.items[2]).toEqual({
      itemId: 101110,
      fieldId: 110,
      fileAttachmentId: null,
      fieldName: 'Password',
      slug: 'password',
      fieldDescription: '',
      filename: null,
      itemValue: 'Demo-Administrator-srv-app01!',
      isFile: false,
      isNotes: false,
      isPassword: true,
      isList: false,
      listType: 'None',
    });
    const field = await rest(base, `secrets/${SRV_APP01_ADMIN}/fields/password`, token);
    expect(await field.text()).toBe('"Demo-Administrator-srv-app01!"');
    const missing = await rest(base, `secrets/${SRV_APP01_ADMIN}/fields/private-key`, token);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: expect.any(String) });
    expect((await rest(base, 'secrets/not-a-number', token)).status).toBe(400);
  });

  it('serves file fields only through the field endpoint', async () => {
    const { base } = await start();
    const token = await bearer(base);
    const secret = (await (await rest(base, `secrets/${LNX_WEB01_ROOT}`, token)).json()) as { items: RestItem[] };
    expect(secret.items.find((i) => i.slug === 'private-key')).toMatchObject({
      isFile: true,
      itemValue: '*** Not Valid For Display ***',
      filename: 'private-key.txt',
    });
    const file = await rest(base, `secrets/${LNX_WEB01_ROOT}/fields/private-key`, token);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(await file.text()).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
  });

  it('answers 403 {message} for a secret the caller may not see, unknown ones alike', async () => {
    const { base } = await start();
    const dave = await bearer(base, 'dave', 'dave-demo-pass');
    for (const id of [CORP_PRA_ADMIN, 9999]) {
      const res = await rest(base, `secrets/${id}`, dave);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ errorCode: 'API_AccessDenied', message: 'Access Denied' });
    }
    const alice = await bearer(base, 'alice', 'alice-demo-pass', 'CORP');
    expect((await rest(base, `secrets/${CORP_PRA_ADMIN}`, alice)).status).toBe(200);
    expect(((await (await rest(base, 'secrets?filter.searchText=CORP', dave)).json()) as { total: number }).total).toBe(0);
  });

  it('demands a comment for a restricted secret, given through POST .../restricted', async () => {
    const { base } = await start();
    const token = await bearer(base);
    const plain = await rest(base, `secrets/${COMMENT_SECRET}`, token);
    expect(plain.status).toBe(400);
    expect(await plain.json()).toEqual({ errorCode: 'API_ValidateSecretAccessCommentRequired', message: 'The requested Secret requires a comment when viewed.' });
    expect((await rest(base, `secrets/${COMMENT_SECRET}/fields/password`, token)).status).toBe(400);
    expect((await postJson(base, `secrets/${COMMENT_SECRET}/restricted`, token, {})).status).toBe(400);
    const granted = await postJson(base, `secrets/${COMMENT_SECRET}/restricted`, token, { comment: 'session 7' });
    expect(granted.status).toBe(200);
    expect(((await granted.json()) as { items: RestItem[] }).items.find((i) => i.slug === 'password')?.itemValue).toBe('Demo-breakglass-srv-app01!');
    const field = await postJson(base, `secrets/${COMMENT_SECRET}/restricted/fields/password`, token, { comment: 'session 7' });
    expect(await field.json()).toBe('Demo-breakglass-srv-app01!');
    expect((await postJson(base, `secrets/${COMMENT_SECRET}/restricted`, token, { comment: 7 })).status).toBe(400);
  });

  it('checks out on GET, blocks other users, and checks in with POST .../check-in', async () => {
    const { base, origin } = await start();
    const api = await bearer(base);
    const dave = await bearer(base, 'dave', 'dave-demo-pass');
    expect(await (await rest(base, `secrets/${CHECKOUT_SECRET}?noAutoCheckout=true`, api)).json()).toEqual({
      errorCode: 'API_ValidateSecretAccessCheckoutRequired',
      message: 'The requested Secret requires check out.',
    });
    const first = (await (await rest(base, `secrets/${CHECKOUT_SECRET}`, api)).json()) as Record<string, unknown>;
    expect(first).toMatchObject({ checkedOut: true, checkOutMinutesRemaining: 30, checkOutUserDisplayName: 'OpenECM API account', checkOutEnabled: true });
    const blocked = await rest(base, `secrets/${CHECKOUT_SECRET}`, dave);
    expect(blocked.status).toBe(400);
    expect(await blocked.json()).toEqual({ errorCode: 'API_ValidateSecretAccessCheckedOut', message: 'The Secret is checked out by OpenECM API account.' });
    expect((await rest(base, `secrets/${CHECKOUT_SECRET}/check-in`, dave, { method: 'POST' })).status).toBe(400);
    const checkIn = await rest(base, `secrets/${CHECKOUT_SECRET}/check-in`, api, { method: 'POST' });
    expect(checkIn.status).toBe(200);
    expect(await checkIn.json()).toMatchObject({ id: CHECKOUT_SECRET, checkedOut: false });
    expect(await control(origin, `secrets/${CHECKOUT_SECRET}`)).toMatchObject({ checkedOut: false, rotations: 1 });
    expect((await rest(base, `secrets/${CHECKOUT_SECRET}/fields/password`, dave)).status).toBe(200);
  });

  it('answers a secret summary with its check-out holder, without values and without checking it out', async () => {
    const { base } = await start();
    const api = await bearer(base);
    const summary = async () => (await (await rest(base, `secrets/${CHECKOUT_SECRET}/summary`, api)).json()) as Record<string, unknown>;
    expect(await summary()).toMatchObject({ id: CHECKOUT_SECRET, checkedOut: false, checkOutUserId: -1, checkOutEnabled: true });
    await rest(base, `secrets/${CHECKOUT_SECRET}`, api);
    const held = await summary();
    expect(held).toMatchObject({ checkedOut: true, checkOutUserName: 'OpenECM API account' });
    expect(held['checkOutUserId']).toEqual(((await (await rest(base, 'users/current', api)).json()) as { id: number }).id);
    expect(JSON.stringify(held)).not.toContain('Demo-');
    const dave = await bearer(base, 'dave', 'dave-demo-pass');
    expect((await rest(base, `secrets/${CHECKOUT_SECRET}/summary`, dave)).status).toBe(200);
  });

  it('lets an impersonation token read over REST as that user', async () => {
    const { base } = await start();
    const alice = await userToken(base, 'alice', 'CORP');
    const me = await rest(base, 'users/current', alice);
    expect(await me.json()).toMatchObject({ id: 11, userName: 'alice', displayName: 'Alice Example', domainId: 1 });
    expect((await rest(base, `secrets/${CORP_PRA_ADMIN}`, alice)).status).toBe(200);
  });

  it('answers the version, and 404 JSON for unknown routes', async () => {
    const { base } = await start();
    const token = await bearer(base);
    expect(await (await rest(base, 'version', token)).json()).toEqual({ success: true, model: { version: '11.7.000005' } });
    const unknown = await rest(base, 'folders', token);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: expect.any(String) });
  });
});

describe('control API', () => {
  it('counts Authenticate, ImpersonateUser and REST token calls per user in /_sim/stats', async () => {
    const { base, origin } = await start();
    const api = await authenticate(base);
    await authenticate(base);
    await impersonate(base, api, 'alice', 'CORP');
    await impersonate(base, api, 'bob', 'CORP');
    await bearer(base, 'alice', 'alice-demo-pass', 'CORP');
    const stats = await control(origin, 'stats');
    expect(stats).toMatchObject({
      authenticate: { total: 2, failed: 0, byUser: { [API_USER]: 2 } },
      impersonate: { total: 2, failed: 1, pendingCreated: 0, byUser: { 'CORP\\alice': 1, 'CORP\\bob': 1 } },
      restToken: { total: 1, failed: 0, byUser: { 'CORP\\alice': 1 } },
      soapCalls: { Authenticate: 2, ImpersonateUser: 2 },
      activeTokens: 4,
    });
  });

  it('injects faults by path, method and SOAP operation, then heals', async () => {
    const { sim, base, origin } = await start();
    const token = await bearer(base);
    const fault = await postControl(origin, 'faults', { status: 503, count: 2, operation: 'GetSecret' });
    expect(fault.status).toBe(201);
    const soapToken = await authenticate(base);
    expect((await getSecret(base, soapToken, SRV_APP01_ADMIN)).status).toBe(503);
    expect((await getSecret(base, soapToken, SRV_APP01_ADMIN)).status).toBe(503);
    expect((await getSecret(base, soapToken, SRV_APP01_ADMIN)).status).toBe(200);
    sim.state.addFault({ count: 1, status: 200, path: 'api/v1/secrets', method: 'GET', contentType: 'text/html', body: '<html><body>Login</body></html>' });
    const html = await rest(base, 'secrets', token);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    sim.state.addFault({ count: 1, drop: true, path: 'oauth2/token' });
    await expect(restToken(base, { grant_type: 'password', username: API_USER, password: API_PASSWORD })).rejects.toThrow();
    expect(sim.state.stats()).toMatchObject({ faultsServed: 4, faultsPending: 0 });
    sim.state.addFault({ count: 5, status: 500 });
    expect((await fetch(`${origin}/_sim/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await soap(base, 'VersionGet')).status).toBe(200);
  });

  it('answers hostile envelopes for the operation asked: 50 000 attributes, deep namespace scopes, 5 MiB', async () => {
    const { base, origin } = await start();
    const call = async (operation: string): Promise<{ status: number; type: string | null; text: string }> => {
      const res = await fetch(`${base}/webservices/SSWebService.asmx`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${SS}/${operation}"` },
        body: envelope(operation, {}),
      });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    const unbounded = { maxElements: 1e6, maxAttributes: 1e6, maxAttributesPerElement: 1e6, maxNamespaceDeclarations: 1e6, maxTextLength: 1e8 };
    const resultOf = (text: string, operation: string): XmlElement | undefined => kid(kid(kid(parseXml(text, unbounded), 'Body'), `${operation}Response`), `${operation}Result`);

    expect((await postControl(origin, 'faults', { hostile: 'attributes', operation: 'SearchSecretsByFieldValue' })).status).toBe(201);
    expect((await postControl(origin, 'faults', { hostile: 'bogus' })).status).toBe(400);
    const wide = await call('SearchSecretsByFieldValue');
    expect(wide).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/xml/) });
    expect(Math.round(wide.text.length / 1024)).toBe(478);
    expect(resultOf(wide.text, 'SearchSecretsByFieldValue')?.attributes).toHaveLength(50_000);

    await postControl(origin, 'faults', { hostile: 'namespaces', operation: 'GetSecret' });
    const deep = await call('GetSecret');
    let scope = resultOf(deep.text, 'GetSecret');
    let levels = 0;
    while (kid(scope, 'Scope')) {
      scope = kid(scope, 'Scope');
      levels += 1;
    }
    expect(levels).toBe(50);
    expect(scope?.children).toHaveLength(10_000);
    expect(scope?.children[49]?.ns).toBe('urn:hostile:49:0');

    await postControl(origin, 'faults', { hostile: 'oversized', operation: 'VersionGet', status: 500 });
    const large = await call('VersionGet');
    expect(large.status).toBe(500);
    expect(large.text.length).toBeGreaterThan(5 * 1024 * 1024);
    expect((await call('VersionGet')).status).toBe(200);
  });

  it('slows calls down with delayMs, and a client timeout does not hold the simulator', async () => {
    const { sim, base } = await start();
    sim.state.addFault({ count: 1, delayMs: 300, operation: 'VersionGet' });
    const startedAt = Date.now();
    const slow = await soap(base, 'VersionGet');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
    expect(slow.status).toBe(200);
    expect(txt(slow.result, 'Version')).toBe('11.7.000005');
    sim.state.addFault({ count: 1, delayMs: 60_000, path: 'webservices' });
    const request = fetch(`${base}/webservices/SSWebService.asmx`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml', soapaction: `${SS}/VersionGet` },
      body: envelope('VersionGet', {}),
      signal: AbortSignal.timeout(150),
    });
    await expect(request).rejects.toThrow();
    const closedAt = Date.now();
    await sim.close();
    expect(Date.now() - closedAt).toBeLessThan(5_000);
  });

  it('shows a secret with its password and check-out state, and 404 for unknown ids', async () => {
    const { origin } = await start();
    expect(await control(origin, `secrets/${SRV_APP01_ADMIN}`)).toMatchObject({
      id: SRV_APP01_ADMIN,
      password: 'Demo-Administrator-srv-app01!',
      fields: { machine: 'srv-app01', username: 'Administrator' },
      checkOutEnabled: false,
      checkedOut: false,
      rotations: 0,
      accessLog: [],
    });
    expect((await fetch(`${origin}/_sim/secrets/9999`)).status).toBe(404);
  });

  it('resets to the initial seed, to an empty one, or to a posted one, and rejects a bad seed', async () => {
    const { sim, base, origin } = await start();
    await trustAction(origin, 'CORP\\alice', 'revoke');
    await authenticate(base);
    const reset = await postControl(origin, 'reset');
    expect(reset.status).toBe(200);
    expect(sim.state.stats().authenticate.total).toBe(0);
    expect(errorsOf(await impersonate(base, await authenticate(base), 'alice', 'CORP'))).toEqual([]);
    const post = (body: unknown): Promise<Response> => postControl(origin, 'reset', body);
    expect((await post({ empty: true })).status).toBe(200);
    expect(errorsOf(await soap(base, 'Authenticate', { username: API_USER, password: API_PASSWORD, organization: '', domain: '' }))).toEqual(['Login failed.']);
    const seed: SimSeed = { users: [{ id: 1, username: 'zed', password: 'zed-pass' }] };
    expect((await post({ seed })).status).toBe(200);
    expect(await authenticate(base, 'zed', 'zed-pass')).toBeTruthy();
    expect((await post({ seed: { users: [{ id: 1, username: 'CORP\\x' }] } })).status).toBe(400);
  });

  it('starts empty with EMPTY_SEED and keeps the built-in templates', async () => {
    const { sim } = await start({ seed: EMPTY_SEED });
    expect(sim.state.stats().activeTokens).toBe(0);
    expect(simSeedSchema.parse(EMPTY_SEED).templates.map((t) => t.name)).toEqual(['Active Directory Account', 'Windows Account', 'Unix Account (SSH)']);
  });

  it('serves under a custom base path', async () => {
    const { base } = await start({ basePath: 'vault/SecretServer/' });
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/vault\/SecretServer$/);
    expect(await authenticate(base)).toBeTruthy();
    expect((await bearer(base)).length).toBeGreaterThan(20);
  });
});

describe('seeds', () => {
  const user = { id: 1, username: 'u', password: 'p' };
  const secret = { id: 1, name: 's', template: 'Windows Account', fields: { machine: 'm' } };
  const invalid: [string, unknown][] = [
    ['a domain inside the user name', { users: [{ id: 1, username: 'CORP\\u' }] }],
    ['an unknown domain', { users: [{ ...user, domain: 'CORP' }] }],
    ['duplicate users', { users: [user, { ...user, id: 2 }] }],
    ['an unknown template', { secrets: [{ ...secret, template: 'Nope' }] }],
    ['a field the template lacks', { secrets: [{ ...secret, fields: { domain: 'x' } }] }],
    ['an unknown folder', { secrets: [{ ...secret, folderId: 9 }] }],
    ['a permission for an unknown user', { secrets: [{ ...secret, permissions: { users: ['ghost'] } }] }],
    ['a folder cycle', { folders: [{ id: 1, name: 'a', parentId: 2 }, { id: 2, name: 'b', parentId: 1 }] }],
    ['trust for an unknown user', { users: [user], trust: [{ apiUser: 'u', user: 'ghost', state: 'approved' }] }],
    ['a bad trust state', { users: [user], trust: [{ apiUser: 'u', user: 'u', state: 'maybe' }] }],
    ['duplicate secret ids', { secrets: [secret, secret] }],
  ];
  it.each(invalid)('rejects %s', (_name, seed) => {
    expect(simSeedSchema.safeParse(seed).success).toBe(false);
  });

  it('accepts the demo seed with the users and trust states the adapter tests rely on', async () => {
    const { origin } = await start();
    const trust = ((await control(origin, 'trust'))['trust'] as { user: string; state: string }[]).map((t) => `${t.user}=${t.state}`).sort();
    expect(trust).toEqual(['CORP\\alice=approved', 'CORP\\bob=pending', 'CORP\\carol=denied', 'CORP\\erin=approved', 'CORP\\grace=revoked', 'dave=approved', 'erin=approved']);
  });
});

describe('logging', () => {
  it('never logs passwords, API passwords, tokens, refresh tokens or comments', async () => {
    const { lines, logger } = captureLog();
    const { base } = await start({ logger });
    const api = await authenticate(base);
    const alice = await userToken(base, 'alice', 'CORP');
    const pending = txt((await impersonate(base, api, 'bob', 'CORP')).result, 'AuthorizeURL') ?? '';
    const secret = await getSecret(base, alice, CHECKOUT_SECRET);
    await soap(base, 'CheckIn', { token: alice, secretId: CHECKOUT_SECRET });
    const grant = (await (await restToken(base, { grant_type: 'password', username: 'alice', password: 'alice-demo-pass', domain: 'CORP' })).json()) as {
      access_token: string;
      refresh_token: string;
    };
    const restSecret = (await (await rest(base, `secrets/${LNX_WEB01_ROOT}`, grant.access_token)).json()) as { items: RestItem[] };
    await postJson(base, `secrets/${COMMENT_SECRET}/restricted`, grant.access_token, { comment: 'secret-comment-text' });
    await restToken(base, { grant_type: 'password', username: API_USER, password: 'wrong-api-password' });
    await waitFor(() => lines.length >= 10);
    const all = lines.join('\n');
    const secrets = [
      API_PASSWORD,
      'wrong-api-password',
      'alice-demo-pass',
      api,
      alice,
      grant.access_token,
      grant.refresh_token,
      itemText(secret, 'Password') ?? 'missing',
      restSecret.items.find((i) => i.slug === 'password')?.itemValue ?? 'missing',
      'Demo-',
      'secret-comment-text',
      new URL(pending).searchParams.get('request') ?? 'missing',
    ];
    for (const value of secrets) expect(all).not.toContain(value);
    expect(all).toContain('"operation":"GetSecret"');
  });
});

describe('main', () => {
  it('logs one JSON line with the URL, serves the demo seed, and closes on SIGTERM', async () => {
    const root = join(__dirname, '..', '..', '..');
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/secret-server-sim/src/main.ts'], {
      cwd: root,
      env: { ...process.env, SS_SIM_PORT: '0', SS_SIM_HOST: '127.0.0.1', SS_SIM_TOKEN_TTL_SECONDS: '90', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => output.join('').includes('secret server simulator listening') || child.exitCode !== null, { timeoutMs: 25_000 });
      const line = output.join('').split('\n').find((l) => l.includes('listening')) ?? '';
      const logged = JSON.parse(line) as { url: string; soap: string };
      expect(logged.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/SecretServer$/);
      expect(logged.soap).toBe(`${logged.url}/webservices/SSWebService.asmx`);
      const grant = (await (await restToken(logged.url, { grant_type: 'password', username: API_USER, password: API_PASSWORD })).json()) as { expires_in: number };
      expect(grant.expires_in).toBe(90);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 30_000);
});
