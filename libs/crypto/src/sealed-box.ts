import { SEALED_BOX_ALG, type SealedBox, type SealingPublicKey } from '@openecm/contracts';
import { hkdfSync } from 'node:crypto';
import { nodeHpkeSuite } from './hpke-node';

const suite = nodeHpkeSuite();
type KeyPair = Awaited<ReturnType<typeof suite.kem.generateKeyPair>>;

/** Plaintexts are padded to a multiple of this, so a box does not tell a short password from a long one. */
const PAD_BLOCK = 64;

export interface SealContext {
  /** HPKE `info`: what kind of value this is. */
  info: string;
  /** Associated data: where this value belongs (a lease id, a connection name). */
  aad: string;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

function padded(value: unknown): Uint8Array {
  const json = utf8(JSON.stringify(value));
  const out = new Uint8Array(Math.ceil((json.length + 1) / PAD_BLOCK) * PAD_BLOCK).fill(0x20);
  out.set(json);
  return out;
}

/**
 * Seals a JSON value to a recipient's X25519 public key with HPKE (RFC 9180, base mode): only the holder of
 * the private key opens it, and only with the same context.
 */
export async function sealTo(recipient: SealingPublicKey, value: unknown, context: SealContext): Promise<SealedBox> {
  const publicKey = await suite.kem.deserializePublicKey(Buffer.from(recipient.publicKey, 'base64url'));
  const { enc, ct } = await suite.seal({ recipientPublicKey: publicKey, info: utf8(context.info) }, padded(value), utf8(context.aad));
  return {
    alg: SEALED_BOX_ALG,
    ...(recipient.kid ? { kid: recipient.kid } : {}),
    enc: Buffer.from(enc).toString('base64url'),
    ct: Buffer.from(ct).toString('base64url'),
  };
}

/** An X25519 key pair that opens what was sealed to its public key. */
export class SealingKeyPair {
  private constructor(
    private readonly pair: KeyPair,
    readonly publicKey: SealingPublicKey,
  ) {}

  /** A fresh key pair, e.g. for one request. */
  static async generate(kid?: string): Promise<SealingKeyPair> {
    return SealingKeyPair.from(await suite.kem.generateKeyPair(), kid);
  }

  /**
   * The same key pair from the same secret, on every instance: the key material is run through HKDF with a
   * label of its own first, so the secret's other uses and this key stay independent.
   */
  static async derive(secret: Buffer, label: string, kid?: string): Promise<SealingKeyPair> {
    const ikm = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), label, 32));
    return SealingKeyPair.from(await suite.kem.deriveKeyPair(ikm), kid);
  }

  private static async from(pair: KeyPair, kid?: string): Promise<SealingKeyPair> {
    const raw = Buffer.from(await suite.kem.serializePublicKey(pair.publicKey)).toString('base64url');
    return new SealingKeyPair(pair, { alg: SEALED_BOX_ALG, ...(kid ? { kid } : {}), publicKey: raw });
  }

  /** The value, or undefined when the box was sealed to another key, for another context, or changed. */
  async open(box: SealedBox, context: SealContext): Promise<unknown> {
    if (box.alg !== SEALED_BOX_ALG) return undefined;
    let plain: ArrayBuffer;
    try {
      plain = await suite.open(
        { recipientKey: this.pair, enc: Buffer.from(box.enc, 'base64url'), info: utf8(context.info) },
        Buffer.from(box.ct, 'base64url'),
        utf8(context.aad),
      );
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(new TextDecoder().decode(plain)) as unknown;
    } catch {
      return undefined;
    }
  }
}
