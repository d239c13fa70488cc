import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keyring } from '@openecm/crypto';

/** The keyrings the demo's token-cache and vault-adapters seal with, in their `keyId:base64` form. */
export interface DemoKeys {
  tokenCacheKeys: string;
  vaultSettingsKeys: string;
  /** The gateway's audit chain key (AUDIT_HMAC_KEYS); added to a keys.json written before it existed. */
  auditKeys: string;
  /** session-reporting's appliance connection key (APPLIANCE_SETTINGS_KEYS); added to a keys.json written before it existed. */
  applianceKeys: string;
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
      applianceKeys: `r1:${Keyring.generateKey()}`,
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
  // keys added after a keys.json was first written are generated into it now, the others kept
  const added: Partial<DemoKeys> = {};
  for (const [field, prefix] of [['auditKeys', 'a1'], ['applianceKeys', 'r1']] as const) {
    const value = parsed[field];
    if (value === undefined) {
      added[field] = `${prefix}:${Keyring.generateKey()}`;
      continue;
    }
    try {
      Keyring.parse(value);
    } catch (error) {
      throw new Error(`${file}: ${field} is not a keyring (${(error as Error).message}); delete the file to start over with new keys`);
    }
  }
  if (Object.keys(added).length > 0) writeFileSync(file, `${JSON.stringify({ ...parsed, ...added }, null, 2)}\n`, { mode: 0o600 });
  const keys = { ...parsed, ...added } as DemoKeys;
  return {
    keys: { tokenCacheKeys: keys.tokenCacheKeys, vaultSettingsKeys: keys.vaultSettingsKeys, auditKeys: keys.auditKeys, applianceKeys: keys.applianceKeys },
    created: false,
    file,
  };
}
