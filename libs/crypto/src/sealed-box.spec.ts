import { SealedBox, SealingPublicKey } from '@openecm/contracts';
import { Keyring } from './envelope';
import { SealingKeyPair, sealTo } from './sealed-box';

const context = { info: 'openecm test v1', aad: 'lease:1' };

describe('sealed boxes (HPKE, X25519 + HKDF-SHA256 + AES-128-GCM)', () => {
  it('opens with the recipient key and the same context only, and never shows the value', async () => {
    const recipient = await SealingKeyPair.generate();
    const box = await sealTo(recipient.publicKey, { type: 'password', value: 'Canary-Pa55' }, context);
    expect(SealedBox.parse(box)).toEqual(box);
    expect(SealingPublicKey.parse(recipient.publicKey)).toEqual(recipient.publicKey);
    const text = JSON.stringify(box);
    expect(text).not.toContain('Canary');
    expect(Buffer.from(box.ct, 'base64url').toString('latin1')).not.toContain('Canary');
    await expect(recipient.open(box, context)).resolves.toEqual({ type: 'password', value: 'Canary-Pa55' });
    await expect(recipient.open(box, { ...context, aad: 'lease:2' })).resolves.toBeUndefined();
    await expect(recipient.open(box, { ...context, info: 'openecm other v1' })).resolves.toBeUndefined();
    await expect((await SealingKeyPair.generate()).open(box, context)).resolves.toBeUndefined();
  });

  it('treats a changed box as unreadable', async () => {
    const recipient = await SealingKeyPair.generate();
    const box = await sealTo(recipient.publicKey, 'value', context);
    const ct = Buffer.from(box.ct, 'base64url');
    ct[0] = (ct[0] as number) ^ 1;
    await expect(recipient.open({ ...box, ct: ct.toString('base64url') }, context)).resolves.toBeUndefined();
    const other = await sealTo(recipient.publicKey, 'value', context);
    await expect(recipient.open({ ...box, enc: other.enc }, context)).resolves.toBeUndefined();
  });

  it('seals each time anew and pads, so neither repeats nor lengths show through', async () => {
    const recipient = await SealingKeyPair.generate();
    const a = await sealTo(recipient.publicKey, 'x', context);
    const b = await sealTo(recipient.publicKey, 'x', context);
    const long = await sealTo(recipient.publicKey, 'x'.repeat(40), context);
    expect(a.ct).not.toBe(b.ct);
    expect(a.enc).not.toBe(b.enc);
    expect(Buffer.from(long.ct, 'base64url').length).toBe(Buffer.from(a.ct, 'base64url').length);
  });

  it('derives the same key pair from the same secret and label, another from another label, with its key id', async () => {
    const secret = Buffer.from(Keyring.generateKey(), 'base64');
    const one = await SealingKeyPair.derive(secret, 'label-a', 'k1');
    const again = await SealingKeyPair.derive(secret, 'label-a', 'k1');
    const other = await SealingKeyPair.derive(secret, 'label-b', 'k1');
    expect(one.publicKey).toEqual(again.publicKey);
    expect(one.publicKey.kid).toBe('k1');
    expect(other.publicKey.publicKey).not.toBe(one.publicKey.publicKey);
    const box = await sealTo(one.publicKey, { a: 1 }, context);
    expect(box.kid).toBe('k1');
    await expect(again.open(box, context)).resolves.toEqual({ a: 1 });
  });
});

describe('derived keyrings', () => {
  it('keep the key ids and the active key, and open only what they sealed', () => {
    const ring = Keyring.parse(`a:${Keyring.generateKey()},b:${Keyring.generateKey()}`);
    const derived = ring.derive('openecm test v1');
    expect(derived.activeKeyId).toBe('a');
    const sealed = derived.seal('session', 'ctx');
    expect(derived.open(sealed, 'ctx')).toBe('session');
    expect(ring.open(sealed, 'ctx')).toBeUndefined();
    expect(ring.derive('openecm other v1').open(sealed, 'ctx')).toBeUndefined();
    expect(ring.derive('openecm test v1').open(sealed, 'ctx')).toBe('session');
    expect(ring.deriveMaterial('x').map(({ id, active }) => [id, active])).toEqual([['a', true], ['b', false]]);
  });
});
