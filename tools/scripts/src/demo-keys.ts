import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keyring } from '@openecm/crypto';

/** The keyrings the demo's token-cache and vault-adapters seal with, in their `keyId:base64` form. */
export interface DemoKeys {
  tokenCacheKeys: string;
  vaultSettingsKeys: string;
  /** The gateway's audit chain key (AUDIT_HMAC_KEYS); added to a keys.json written before it existed. */
  auditKeys: string;
}

export const KEYS_FILE = 'keys.json';

/**
 * The demo's keys: generated once into `<dir>/keys.json` (readable by its owner only) and read from there
 * on every later run, so vault settings and cached sessions sealed by an earlier run still open.
 */
export function loadDemoKeys(dir: string): { keys: DemoKeys; created: boolean; file: string } {
  const file = join(dir, KEYS_FILE);
  if (!existsSync(file)) {
    const keys: DemoKeys = {
      tokenCacheKeys: `k1:${Keyring.generateKey()}`,
      vaultSettingsKeys: `v1:${Keyring.generateKey()}`,
      auditKeys: `a1:${Keyring.generateKey()}`,
    };
    // 'wx': two demos starting at once never overwrite each other's keys.
    writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return { keys, created: true, file };
  }
  if (statSync(file).mode & 0o077) chmodSync(file, 0o600);
  let parsed: Partial<DemoKeys>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoKeys>;
  } catch {
    throw new Error(`${file} is not JSON; delete it to start over with new keys (what they sealed is lost)`);
  }
  for (const field of ['tokenCacheKeys', 'vaultSettingsKeys'] as const) {
    const value = parsed[field];
    try {
      if (typeof value !== 'string') throw new Error('missing');
      Keyring.parse(value);
    } catch (error) {
      throw new Error(`${file}: ${field} is not a keyring (${(error as Error).message}); delete the file to start over with new keys`);
    }
  }
  let auditKeys = parsed.auditKeys;
  if (auditKeys === undefined) {
    auditKeys = `a1:${Keyring.generateKey()}`;
    writeFileSync(file, `${JSON.stringify({ ...parsed, auditKeys }, null, 2)}\n`, { mode: 0o600 });
  } else {
    try {
      Keyring.parse(auditKeys);
    } catch (error) {
      throw new Error(`${file}: auditKeys is not a keyring (${(error as Error).message}); delete the file to start over with new keys`);
    }
  }
  return { keys: { tokenCacheKeys: parsed.tokenCacheKeys as string, vaultSettingsKeys: parsed.vaultSettingsKeys as string, auditKeys }, created: false, file };
}
