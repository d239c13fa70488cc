import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const VERSION = 'v1';
const TAG_BYTES = 16;
const IV_BYTES = 12;
const KEY_BYTES = 32;

/**
 * AES-256-GCM sealing with key ids, so keys can be rotated: entries are sealed with the active key and
 * opened with whichever key their id names. Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url).
 * The associated data binds an envelope to its place (e.g. its Redis key), so a value moved elsewhere
 * does not open.
 */
export class Keyring {
  private readonly keys: Map<string, Buffer>;

  constructor(
    keys: ReadonlyArray<{ id: string; key: Buffer }>,
    private readonly activeId: string = keys[0]?.id ?? '',
  ) {
    if (keys.length === 0) throw new Error('a keyring needs at least one key');
    this.keys = new Map();
    for (const { id, key } of keys) {
      if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`key id "${id}" must be letters, digits, - or _`);
      if (key.length !== KEY_BYTES) throw new Error(`key "${id}" must be ${KEY_BYTES} bytes`);
      this.keys.set(id, key);
    }
    if (!this.keys.has(this.activeId)) throw new Error(`active key "${this.activeId}" is not in the keyring`);
  }

  /** Parses `id:base64key[,id:base64key...]`; the first key is active. */
  static parse(spec: string): Keyring {
    const keys = spec.split(',').map((pair) => {
      const [id, material] = pair.split(':');
      if (!id || !material) throw new Error('keyring entries are keyId:base64key');
      return { id, key: Buffer.from(material, 'base64') };
    });
    return new Keyring(keys);
  }

  static generateKey(): string {
    return randomBytes(KEY_BYTES).toString('base64');
  }

  get activeKeyId(): string {
    return this.activeId;
  }

  /**
   * Key material for another use, one per key and under the same ids: each key run through HKDF-SHA256 with
   * `label`, so what is sealed with the derived keys never opens with these, nor the other way round.
   */
  deriveMaterial(label: string): Array<{ id: string; material: Buffer; active: boolean }> {
    return [...this.keys].map(([id, key]) => ({
      id,
      material: Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), label, KEY_BYTES)),
      active: id === this.activeId,
    }));
  }

  /** A keyring of keys derived with `label` (see deriveMaterial); its active key is this one's, derived. */
  derive(label: string): Keyring {
    return new Keyring(this.deriveMaterial(label).map(({ id, material }) => ({ id, key: material })), this.activeId);
  }

  seal(plaintext: string, associatedData = ''): string {
    const key = this.keys.get(this.activeId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.activeId, iv.toString('base64url'), tag.toString('base64url'), body.toString('base64url')].join('.');
  }

  /** Returns the plaintext, or undefined when the envelope is malformed, tampered with or sealed by an unknown key. */
  open(envelope: string, associatedData = ''): string | undefined {
    const parts = envelope.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) return undefined;
    const [, keyId, ivText, tagText, bodyText] = parts as [string, string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key) return undefined;
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    // GCM accepts a tag cut short (down to 4 bytes) unless told its length: a forger would need far fewer tries.
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(bodyText, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /** Whether an envelope was sealed with a key other than the active one (and should be re-sealed). */
  needsReseal(envelope: string): boolean {
    return envelope.split('.')[1] !== this.activeId;
  }
}

export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = Buffer.isBuffer(a) ? a : Buffer.from(a, 'utf8');
  const right = Buffer.isBuffer(b) ? b : Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
