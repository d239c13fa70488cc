import {
  AeadId,
  Dhkem,
  HkdfSha256Native,
  KemId,
  LABEL_DKP_PRK,
  LABEL_SK,
  type AeadEncryptionContext,
  type AeadInterface,
  type DhkemPrimitives,
} from '@hpke/common';
import { CipherSuite } from '@hpke/core';
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  type webcrypto,
} from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type JsonWebKey = webcrypto.JsonWebKey;
type KeyUsage = webcrypto.KeyUsage;

/**
 * The HPKE suite of the sealed boxes (RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * AES-128-GCM) with its three primitives on `node:crypto`.
 *
 * `@hpke/core` keeps the protocol: the key schedule, the labels, the KEM's encapsulation, the nonces. Its own
 * primitives run on WebCrypto, where every HMAC, key import and AEAD call is a job of its own on the thread
 * pool with a promise around it: some twenty of them per box, which made sealing and opening a secret cost
 * milliseconds of CPU on every injection. Here each primitive is one synchronous OpenSSL call behind the
 * library's own interfaces (`KdfInterface`, `AeadInterface`, `DhkemPrimitives`), so the boxes are the same
 * bytes (RFC 9180's test vector checks it) at a fraction of the cost. See docs/adr/0023.
 */

const X25519 = 'X25519';
/** The DER prefix of an X25519 private key in PKCS #8 (RFC 8410). */
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const KEY_SIZE = 32;

const bytes = (input: ArrayBufferLike | ArrayBufferView): Buffer =>
  ArrayBuffer.isView(input) ? Buffer.from(input.buffer, input.byteOffset, input.byteLength) : Buffer.from(input as ArrayBuffer);

/** A fresh ArrayBuffer of its own (what the library's interfaces answer), never a view of Node's buffer pool. */
const own = (buffer: Buffer): ArrayBuffer => {
  const out = new ArrayBuffer(buffer.length);
  new Uint8Array(out).set(buffer);
  return out;
};

/** HKDF-SHA256 with the library's labels, each step one HMAC. */
class NodeHkdfSha256 extends HkdfSha256Native {
  override async extract(salt: ArrayBufferLike | ArrayBufferView, ikm: ArrayBufferLike | ArrayBufferView): Promise<ArrayBuffer> {
    const key = salt.byteLength === 0 ? Buffer.alloc(this.hashSize) : bytes(salt);
    return own(createHmac('sha256', key).update(bytes(ikm)).digest());
  }

  override async expand(prk: ArrayBufferLike | ArrayBufferView, info: ArrayBufferLike | ArrayBufferView, len: number): Promise<ArrayBuffer> {
    if (len > 255 * this.hashSize) throw new Error('Entropy limit reached');
    const key = bytes(prk);
    const okm = Buffer.alloc(len);
    let previous = Buffer.alloc(0);
    for (let i = 1, at = 0; at < len; i++) {
      previous = createHmac('sha256', key).update(previous).update(bytes(info)).update(Buffer.of(i)).digest();
      at += previous.copy(okm, at);
    }
    return own(okm);
  }

  override async extractAndExpand(
    salt: ArrayBufferLike | ArrayBufferView,
    ikm: ArrayBufferLike | ArrayBufferView,
    info: ArrayBufferLike | ArrayBufferView,
    len: number,
  ): Promise<ArrayBuffer> {
    // two HMACs: node's hkdfSync answers the same bytes at several times the cost for a key this short
    return this.expand(await this.extract(salt, ikm), info, len);
  }
}

/** An X25519 key as the library's interfaces pass it around: a CryptoKey shape over a Node KeyObject. */
class NodeX25519Key implements CryptoKey {
  readonly algorithm = { name: X25519 };
  readonly extractable = true;
  readonly usages: KeyUsage[];
  readonly type: 'public' | 'private';

  constructor(readonly key: KeyObject) {
    this.type = key.type === 'private' ? 'private' : 'public';
    this.usages = this.type === 'private' ? ['deriveBits'] : [];
  }
}

const keyObject = (key: CryptoKey): KeyObject => {
  if (!(key instanceof NodeX25519Key)) throw new Error('not a key of this suite');
  return key.key;
};

const rawOf = (key: KeyObject): Buffer => {
  const jwk = key.export({ format: 'jwk' });
  const field = key.type === 'private' ? jwk.d : jwk.x;
  if (!field) throw new Error('not an X25519 key');
  return Buffer.from(field, 'base64url');
};

const privateFromRaw = (raw: Buffer) => {
  if (raw.length !== KEY_SIZE) throw new Error('Invalid private key for the ciphersuite');
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
};

/** A public key comes in on every sealing: as a JWK, which OpenSSL reads ten times faster than SPKI. */
const publicFromRaw = (raw: Buffer) => {
  if (raw.length !== KEY_SIZE) throw new Error('Invalid public key for the ciphersuite');
  return createPublicKey({ key: { kty: 'OKP', crv: X25519, x: raw.toString('base64url') }, format: 'jwk' });
};

const pairOf = (privateKey: KeyObject): CryptoKeyPair => ({
  privateKey: new NodeX25519Key(privateKey),
  publicKey: new NodeX25519Key(createPublicKey(privateKey)),
});

/** X25519 for DHKEM: key pairs, their raw 32-byte form, DeriveKeyPair (RFC 9180 7.1.3) and DH. */
class NodeX25519 implements DhkemPrimitives {
  constructor(private readonly hkdf: NodeHkdfSha256) {}

  async serializePublicKey(key: CryptoKey): Promise<ArrayBuffer> {
    return own(rawOf(keyObject(key)));
  }

  async deserializePublicKey(key: ArrayBufferLike | ArrayBufferView): Promise<CryptoKey> {
    return new NodeX25519Key(publicFromRaw(bytes(key)));
  }

  async serializePrivateKey(key: CryptoKey): Promise<ArrayBuffer> {
    return own(rawOf(keyObject(key)));
  }

  async deserializePrivateKey(key: ArrayBufferLike | ArrayBufferView): Promise<CryptoKey> {
    return new NodeX25519Key(privateFromRaw(bytes(key)));
  }

  async importKey(format: 'raw' | 'jwk', key: ArrayBuffer | JsonWebKey, isPublic: boolean): Promise<CryptoKey> {
    if (format === 'raw' && key instanceof ArrayBuffer) return isPublic ? this.deserializePublicKey(key) : this.deserializePrivateKey(key);
    const jwk = key as JsonWebKey;
    if (jwk.kty !== 'OKP' || jwk.crv !== X25519 || (isPublic ? jwk.d !== undefined || !jwk.x : !jwk.d)) throw new Error('Invalid X25519 JWK');
    return isPublic ? this.deserializePublicKey(Buffer.from(jwk.x as string, 'base64url')) : this.deserializePrivateKey(Buffer.from(jwk.d as string, 'base64url'));
  }

  async generateKeyPair(): Promise<CryptoKeyPair> {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    return { privateKey: new NodeX25519Key(privateKey), publicKey: new NodeX25519Key(publicKey) };
  }

  async deriveKeyPair(ikm: ArrayBufferLike | ArrayBufferView): Promise<CryptoKeyPair> {
    const prk = await this.hkdf.labeledExtract(new ArrayBuffer(0), LABEL_DKP_PRK, new Uint8Array(bytes(ikm)));
    const raw = Buffer.from(await this.hkdf.labeledExpand(prk, LABEL_SK, new Uint8Array(0), KEY_SIZE));
    try {
      return pairOf(privateFromRaw(raw));
    } finally {
      raw.fill(0);
    }
  }

  async derivePublicKey(key: CryptoKey): Promise<CryptoKey> {
    return new NodeX25519Key(createPublicKey(keyObject(key)));
  }

  async dh(sk: CryptoKey, pk: CryptoKey): Promise<ArrayBuffer> {
    return own(diffieHellman({ privateKey: keyObject(sk), publicKey: keyObject(pk) }));
  }
}

class NodeAes128GcmContext implements AeadEncryptionContext {
  private readonly key: KeyObject;

  constructor(raw: ArrayBufferLike | ArrayBufferView) {
    const copy = Buffer.from(bytes(raw));
    this.key = createSecretKey(copy);
    copy.fill(0);
  }

  async seal(iv: ArrayBufferLike | ArrayBufferView, data: ArrayBufferLike | ArrayBufferView, aad: ArrayBufferLike | ArrayBufferView): Promise<ArrayBuffer> {
    const cipher = createCipheriv('aes-128-gcm', this.key, bytes(iv));
    cipher.setAAD(bytes(aad));
    return own(Buffer.concat([cipher.update(bytes(data)), cipher.final(), cipher.getAuthTag()]));
  }

  async open(iv: ArrayBufferLike | ArrayBufferView, data: ArrayBufferLike | ArrayBufferView, aad: ArrayBufferLike | ArrayBufferView): Promise<ArrayBuffer> {
    const sealed = bytes(data);
    if (sealed.length < 16) throw new Error('too short');
    const decipher = createDecipheriv('aes-128-gcm', this.key, bytes(iv));
    decipher.setAAD(bytes(aad));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return own(Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]));
  }
}

class NodeAes128Gcm implements AeadInterface {
  readonly id = AeadId.Aes128Gcm;
  readonly keySize = 16;
  readonly nonceSize = 12;
  readonly tagSize = 16;

  createEncryptionContext(key: ArrayBufferLike | ArrayBufferView): AeadEncryptionContext {
    return new NodeAes128GcmContext(key);
  }
}

/** DHKEM(X25519, HKDF-SHA256) with its own HKDF instance, as RFC 9180 labels the KEM apart from the suite. */
class NodeDhkemX25519HkdfSha256 extends Dhkem {
  override readonly secretSize = KEY_SIZE;
  override readonly encSize = KEY_SIZE;
  override readonly publicKeySize = KEY_SIZE;
  override readonly privateKeySize = KEY_SIZE;

  constructor() {
    const hkdf = new NodeHkdfSha256();
    super(KemId.DhkemX25519HkdfSha256, new NodeX25519(hkdf), hkdf);
  }
}

export function nodeHpkeSuite(): CipherSuite {
  return new CipherSuite({ kem: new NodeDhkemX25519HkdfSha256(), kdf: new NodeHkdfSha256(), aead: new NodeAes128Gcm() });
}
