import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { nodeHpkeSuite } from './hpke-node';

const hex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));
const text = (value: string) => new TextEncoder().encode(value);
const asHex = (buffer: ArrayBuffer) => Buffer.from(buffer).toString('hex');

/** RFC 9180, appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode, sequence 0. */
const A_1_1 = {
  info: hex('4f6465206f6e2061204772656369616e2055726e'),
  ikmE: hex('7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234'),
  pkEm: '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431',
  skEm: '52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736',
  ikmR: hex('6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037'),
  pkRm: '3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d',
  skRm: '4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8',
  aad: text('Count-0'),
  pt: text('Beauty is truth, truth beauty'),
  ct: 'f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a',
};

const webCrypto = () => new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });

describe('the HPKE suite on node:crypto', () => {
  const suite = nodeHpkeSuite();

  it("reproduces RFC 9180's test vector: derived key pairs, encapsulated key and ciphertext", async () => {
    const ephemeral = await suite.kem.deriveKeyPair(A_1_1.ikmE);
    const recipient = await suite.kem.deriveKeyPair(A_1_1.ikmR);
    expect(asHex(await suite.kem.serializePublicKey(ephemeral.publicKey))).toBe(A_1_1.pkEm);
    expect(asHex(await suite.kem.serializePrivateKey(ephemeral.privateKey))).toBe(A_1_1.skEm);
    expect(asHex(await suite.kem.serializePublicKey(recipient.publicKey))).toBe(A_1_1.pkRm);
    expect(asHex(await suite.kem.serializePrivateKey(recipient.privateKey))).toBe(A_1_1.skRm);

    const sealed = await suite.seal({ recipientPublicKey: recipient.publicKey, info: A_1_1.info, ekm: ephemeral }, A_1_1.pt, A_1_1.aad);
    expect(asHex(sealed.enc)).toBe(A_1_1.pkEm);
    expect(asHex(sealed.ct)).toBe(A_1_1.ct);
    const opened = await suite.open({ recipientKey: recipient, enc: hex(A_1_1.pkEm), info: A_1_1.info }, hex(A_1_1.ct), A_1_1.aad);
    expect(Buffer.from(opened).toString()).toBe('Beauty is truth, truth beauty');
  });

  it('opens what the WebCrypto suite sealed and the other way round, with the same derived keys', async () => {
    const web = webCrypto();
    const ikm = hex('00'.repeat(31) + '2a');
    const node = await suite.kem.deriveKeyPair(ikm);
    const browser = await web.kem.deriveKeyPair(ikm);
    expect(asHex(await suite.kem.serializePublicKey(node.publicKey))).toBe(asHex(await web.kem.serializePublicKey(browser.publicKey)));

    const toNode = await web.seal({ recipientPublicKey: await web.kem.deserializePublicKey(await suite.kem.serializePublicKey(node.publicKey)), info: text('i') }, text('from WebCrypto'), text('a'));
    expect(Buffer.from(await suite.open({ recipientKey: node, enc: toNode.enc, info: text('i') }, toNode.ct, text('a'))).toString()).toBe('from WebCrypto');

    const toWeb = await suite.seal({ recipientPublicKey: await suite.kem.deserializePublicKey(await web.kem.serializePublicKey(browser.publicKey)), info: text('i') }, text('from node'), text('a'));
    expect(Buffer.from(await web.open({ recipientKey: browser, enc: toWeb.enc, info: text('i') }, toWeb.ct, text('a'))).toString()).toBe('from node');
  });

  it('refuses a changed tag, another associated data and a key of the wrong length', async () => {
    const recipient = await suite.kem.generateKeyPair();
    const { enc, ct } = await suite.seal({ recipientPublicKey: recipient.publicKey, info: text('i') }, text('value'), text('a'));
    const changed = new Uint8Array(ct.slice(0));
    changed[changed.length - 1] = (changed[changed.length - 1] as number) ^ 1;
    await expect(suite.open({ recipientKey: recipient, enc, info: text('i') }, changed, text('a'))).rejects.toThrow();
    await expect(suite.open({ recipientKey: recipient, enc, info: text('i') }, ct, text('b'))).rejects.toThrow();
    await expect(suite.open({ recipientKey: recipient, enc, info: text('i') }, ct.slice(0, 8), text('a'))).rejects.toThrow();
    await expect(suite.kem.deserializePublicKey(new Uint8Array(31))).rejects.toThrow();
  });
});
