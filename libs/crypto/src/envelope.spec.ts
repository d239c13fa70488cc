import { Keyring, constantTimeEqual } from './envelope';
import { hashSecret, verifySecret } from './secret-hash';

const key = (id: string) => ({ id, key: Buffer.from(Keyring.generateKey(), 'base64') });

describe('Keyring', () => {
  it('seals so that the plaintext is not visible and opens it again', () => {
    const ring = new Keyring([key('k1')]);
    const sealed = ring.seal('cookie=abc', 'ctx');
    expect(sealed).not.toContain('cookie');
    expect(ring.open(sealed, 'ctx')).toBe('cookie=abc');
  });

  it('treats a tampered envelope, another context or an unknown key as unreadable', () => {
    const ring = new Keyring([key('k1')]);
    const sealed = ring.seal('value', 'a');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[4] as string, 'base64url');
    body[0] = (body[0] as number) ^ 1;
    parts[4] = body.toString('base64url');
    expect(ring.open(parts.join('.'), 'a')).toBeUndefined();
    expect(ring.open(sealed, 'b')).toBeUndefined();
    expect(new Keyring([key('k2')]).open(sealed, 'a')).toBeUndefined();
    expect(ring.open('garbage', 'a')).toBeUndefined();
  });

  it('refuses an envelope whose authentication tag was cut short, even to a length GCM would check', () => {
    const ring = new Keyring([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
    const sealed = ring.seal('secret', 'ctx');
    const parts = sealed.split('.');
    const tag = Buffer.from(parts[3] as string, 'base64url');
    for (const length of [4, 8, 12, 15]) {
      const short = [...parts.slice(0, 3), tag.subarray(0, length).toString('base64url'), parts[4]].join('.');
      expect(ring.open(short, 'ctx')).toBeUndefined();
    }
    const shortIv = [parts[0], parts[1], Buffer.alloc(8).toString('base64url'), parts[3], parts[4]].join('.');
    expect(ring.open(shortIv, 'ctx')).toBeUndefined();
    expect(ring.open(sealed, 'ctx')).toBe('secret');
  });

  it('opens entries sealed with an older key after rotation and seals new ones with the active key', () => {
    const old = key('old');
    const fresh = key('new');
    const before = new Keyring([old]).seal('v');
    const rotated = new Keyring([fresh, old]);
    expect(rotated.open(before)).toBe('v');
    expect(rotated.needsReseal(before)).toBe(true);
    expect(rotated.seal('v').split('.')[1]).toBe('new');
  });

  it('parses the keyring setting and rejects keys of the wrong size', () => {
    expect(Keyring.parse(`a:${Keyring.generateKey()},b:${Keyring.generateKey()}`).activeKeyId).toBe('a');
    expect(() => Keyring.parse('a:c2hvcnQ=')).toThrow(/32 bytes/);
  });

  it('compares in constant time', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});

describe('secret hashing', () => {
  it('verifies the right secret only and never stores it in clear', async () => {
    const stored = await hashSecret('correct horse battery staple');
    expect(stored).not.toContain('correct');
    await expect(verifySecret('correct horse battery staple', stored)).resolves.toBe(true);
    await expect(verifySecret('wrong', stored)).resolves.toBe(false);
    await expect(verifySecret('x', 'not-a-hash')).resolves.toBe(false);
  });
});
