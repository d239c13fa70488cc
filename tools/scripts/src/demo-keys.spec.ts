import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@openecm/crypto';
import { loadDemoKeys } from './demo-keys';

describe('the demo keys', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'openecm-keys-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are generated on the first run into keys.json, readable by its owner only', () => {
    const first = loadDemoKeys(dir);
    expect(first.created).toBe(true);
    expect(first.file).toBe(join(dir, 'keys.json'));
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(Keyring.parse(first.keys.tokenCacheKeys).activeKeyId).toBe('k1');
    expect(Keyring.parse(first.keys.vaultSettingsKeys).activeKeyId).toBe('v1');
    expect(first.keys.tokenCacheKeys).not.toBe(first.keys.vaultSettingsKeys);
  });

  it('are reused on every later run, and what one run sealed the next opens', () => {
    const first = loadDemoKeys(dir);
    const sealed = Keyring.parse(first.keys.vaultSettingsKeys).seal('settings', 'vault-connection:password-safe');
    const second = loadDemoKeys(dir);
    expect(second).toEqual({ ...first, created: false });
    expect(Keyring.parse(second.keys.vaultSettingsKeys).open(sealed, 'vault-connection:password-safe')).toBe('settings');
  });

  it('adds an audit key to a keys file written before there was one, keeping the other keys', () => {
    const older = { tokenCacheKeys: `k1:${Keyring.generateKey()}`, vaultSettingsKeys: `v1:${Keyring.generateKey()}` };
    writeFileSync(join(dir, 'keys.json'), JSON.stringify(older), { mode: 0o600 });
    const loaded = loadDemoKeys(dir);
    expect(loaded.keys).toMatchObject(older);
    expect(() => Keyring.parse(loaded.keys.auditKeys)).not.toThrow();
    expect(loadDemoKeys(dir).keys.auditKeys).toBe(loaded.keys.auditKeys);
  });

  it('adds an appliance connection key to a keys file written before there was one, keeping the other keys', () => {
    const older = { tokenCacheKeys: `k1:${Keyring.generateKey()}`, vaultSettingsKeys: `v1:${Keyring.generateKey()}`, auditKeys: `a1:${Keyring.generateKey()}` };
    writeFileSync(join(dir, 'keys.json'), JSON.stringify(older), { mode: 0o600 });
    const loaded = loadDemoKeys(dir);
    expect(loaded.keys).toMatchObject(older);
    expect(() => Keyring.parse(loaded.keys.applianceKeys)).not.toThrow();
    expect(loadDemoKeys(dir).keys).toEqual(loaded.keys);
  });

  it('closes a keys file others could read', () => {
    const { file } = loadDemoKeys(dir);
    chmodSync(file, 0o644);
    loadDemoKeys(dir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged file, naming the field and how to start over, never its content', () => {
    writeFileSync(join(dir, 'keys.json'), JSON.stringify({ tokenCacheKeys: `k1:${Keyring.generateKey()}`, vaultSettingsKeys: 'v1:c2hvcnQ=' }));
    expect(() => loadDemoKeys(dir)).toThrow(/vaultSettingsKeys is not a keyring \(.*32 bytes.*\); delete the file/);
    expect(() => loadDemoKeys(dir)).not.toThrow(/c2hvcnQ/);
    writeFileSync(join(dir, 'keys.json'), '{"tokenCacheKeys":');
    expect(() => loadDemoKeys(dir)).toThrow(/is not JSON; delete it/);
    expect(readFileSync(join(dir, 'keys.json'), 'utf8')).toBe('{"tokenCacheKeys":');
  });
});
