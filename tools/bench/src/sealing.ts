/**
 * What sealing costs on the inject path and on a vault session's way to token-cache, one step at a time:
 *
 *   node -r @swc-node/register tools/bench/src/sealing.ts [iterations]
 *
 * The gateway makes a key pair per injection and opens the secret; vault-adapters seals it (HPKE, X25519 +
 * HKDF-SHA256 + AES-128-GCM); vault sessions are sealed and opened with AES-256-GCM. Each figure is the
 * median and the 99th percentile over the iterations, after a warm-up, in one process on one core.
 */
import { SEAL_CONTEXTS, type SealingPublicKey } from '@openecm/contracts';
import { Keyring, SealingKeyPair, sealTo } from '@openecm/crypto';
import { createCipheriv, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, randomUUID } from 'node:crypto';

const iterations = Number(process.argv[2] ?? 2000);

async function measure(name: string, step: () => Promise<unknown> | unknown): Promise<void> {
  for (let i = 0; i < Math.min(200, iterations); i++) await step();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await step();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.min(times.length - 1, Math.floor(q * times.length))] as number).toFixed(3);
  process.stdout.write(`${name.padEnd(58)} median ${at(0.5)} ms   p99 ${at(0.99)} ms\n`);
}

async function main(): Promise<void> {
  const secret = { type: 'password', value: 'Xy!9-a-password-of-some-length' };
  const leaseId = randomUUID();
  const context = SEAL_CONTEXTS.checkoutSecret(leaseId);
  const gateway = await SealingKeyPair.generate();
  const box = await sealTo(gateway.publicKey, secret, context);
  const sessions = Keyring.parse(`v1:${Keyring.generateKey()}`).derive('openecm vault sessions v1');
  const session = JSON.stringify({ cookie: 'ASP.NET_SessionId=0123456789abcdef0123456789', runAs: 'CORP\\alice' });
  const sealedSession = sessions.seal(session, 'vault-session:ps:abc');
  let recipient: SealingPublicKey = gateway.publicKey;

  process.stdout.write(`${iterations} iterations each, Node.js ${process.version}\n`);
  await measure('gateway: key pair for one injection', async () => {
    recipient = (await SealingKeyPair.generate()).publicKey;
  });
  await measure('vault-adapters: seal the secret to it (HPKE)', () => sealTo(recipient, secret, context));
  await measure('gateway: open the secret (HPKE)', () => gateway.open(box, context));
  await measure('inject path in all: key pair + seal + open', async () => {
    const keys = await SealingKeyPair.generate();
    await keys.open(await sealTo(keys.publicKey, secret, context), context);
  });
  // the floor: the same primitives through node:crypto, synchronously (not HPKE's key schedule, a lower bound)
  await measure('floor: X25519 pair + DH + HKDF + AES-128-GCM (node:crypto)', () => {
    const a = generateKeyPairSync('x25519');
    const b = generateKeyPairSync('x25519');
    const shared = diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey });
    const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'floor', 16));
    const cipher = createCipheriv('aes-128-gcm', key, randomBytes(12));
    Buffer.concat([cipher.update(JSON.stringify(secret)), cipher.final(), cipher.getAuthTag()]);
  });
  await measure('vault session: seal (AES-256-GCM)', () => sessions.seal(session, 'vault-session:ps:abc'));
  await measure('vault session: open (AES-256-GCM)', () => sessions.open(sealedSession, 'vault-session:ps:abc'));
}

void main();
