import { secretForms, sightings, type Overheard } from './eavesdropper';

const SECRET = 'Canary-Pa55 w0rd/+&é';
const message = (payload: string, headers = ''): Overheard => ({ subject: 'ns.some.subject.v1', headers, payload });
const found = (m: Overheard) => sightings([m], [SECRET]).map((s) => `${s.part}:${s.form}`);

describe('the bus eavesdropper finds a secret in any form it may travel in', () => {
  const b64 = (prefix: string) => Buffer.from(`${prefix}${SECRET}"}`, 'utf8').toString('base64');

  it.each([
    ['plain', JSON.stringify({ value: SECRET }).replace('\\u00e9', 'é')],
    ['JSON-escaped', JSON.stringify({ value: `a"${SECRET}` })],
    ['URL-encoded', `key=${encodeURIComponent(SECRET)}&x=1`],
    ['form-encoded', new URLSearchParams({ password: SECRET }).toString()],
    ['hex', Buffer.from(`xx${SECRET}`).toString('hex')],
    ['upper-case hex', Buffer.from(SECRET).toString('hex').toUpperCase()],
    ['base64 at offset 0', b64('')],
    ['base64 at offset 1', b64('{')],
    ['base64 at offset 2', b64('{"')],
    ['base64url', Buffer.from(`{"v":"${SECRET}"}`).toString('base64url')],
  ])('%s', (_what, payload) => {
    expect(found(message(payload))).toEqual([expect.stringMatching(/^payload:/)]);
  });

  it('in the headers too, and in UTF-8 bytes as they arrive', () => {
    expect(found(message('{}', `authorization: Basic ${Buffer.from(`u:${SECRET}`).toString('base64')}`))).toEqual(['headers:base64']);
    expect(found(message(Buffer.from(JSON.stringify({ v: SECRET }), 'utf8').toString('latin1')))).toEqual(['payload:latin1']);
  });

  it('and nothing where there is none: a sealed box, or another value', () => {
    expect(found(message(JSON.stringify({ alg: 'hpke', enc: 'x'.repeat(43), ct: 'AbCdEf0123456789-_' })))).toEqual([]);
    expect(found(message('Canary-Pa55 w0rd'))).toEqual([]);
  });

  it('knows each form once, and a base64 run for each alignment', () => {
    const forms = secretForms(SECRET);
    expect(new Set(forms.map((f) => f.text)).size).toBe(forms.length);
    expect(forms.filter((f) => f.form === 'base64')).toHaveLength(3);
  });
});
