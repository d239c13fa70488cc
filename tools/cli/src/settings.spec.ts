import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SettingsError, resolveSettings } from './settings';

describe('resolveSettings', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'openecm-cli-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (content: unknown, mode = 0o600) => {
    const path = join(dir, 'config.json');
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    chmodSync(path, mode);
    return path;
  };

  it('defaults to the local gateway with no account, looking in the XDG config folder', () => {
    expect(resolveSettings({}, { XDG_CONFIG_HOME: dir })).toEqual({ url: 'http://127.0.0.1:8080', source: 'nowhere', warnings: [] });
  });

  it('reads ~/.config/openecm/config.json (or XDG_CONFIG_HOME) when nothing else is given', () => {
    const path = file({ url: 'https://ecm.example/', clientId: 'ops', clientSecret: 's3cret-from-file' });
    const xdg = join(dir, 'xdg');
    mkdirSync(join(xdg, 'openecm'), { recursive: true });
    renameSync(path, join(xdg, 'openecm', 'config.json'));
    expect(resolveSettings({}, { XDG_CONFIG_HOME: xdg })).toMatchObject({ url: 'https://ecm.example', account: { clientId: 'ops', clientSecret: 's3cret-from-file' } });
  });

  it('prefers --url over the environment over the file, and takes the account from one place only', () => {
    const path = file({ url: 'http://from-file:1', clientId: 'file-id', clientSecret: 'file-secret' });
    const env = { OPENECM_URL: 'http://from-env:2', OPENECM_CLIENT_ID: 'env-id', OPENECM_CLIENT_SECRET: 'env-secret' };
    expect(resolveSettings({ config: path, url: 'http://from-flag:3' }, env)).toMatchObject({ url: 'http://from-flag:3', source: 'the environment', account: { clientId: 'env-id' } });
    expect(resolveSettings({ config: path }, { OPENECM_URL: 'http://from-env:2' })).toMatchObject({ url: 'http://from-env:2', source: path, account: { clientId: 'file-id' } });
  });

  it('refuses half an account, an unknown field, a file that is not JSON and a missing --config file', () => {
    expect(() => resolveSettings({}, { XDG_CONFIG_HOME: dir, OPENECM_CLIENT_ID: 'id' })).toThrow('set both OPENECM_CLIENT_ID and OPENECM_CLIENT_SECRET');
    expect(() => resolveSettings({ config: file({ clientSecret: 'x' }) }, {})).toThrow(/both clientId and clientSecret/);
    expect(() => resolveSettings({ config: file({ password: 'hunter2' }) }, {})).toThrow(/unknown fields: password/);
    expect(() => resolveSettings({ config: file('{ nope') }, {})).toThrow(/not valid JSON/);
    expect(() => resolveSettings({ config: join(dir, 'missing.json') }, {})).toThrow(SettingsError);
    expect(() => resolveSettings({ url: 'ftp://x' }, { XDG_CONFIG_HOME: dir })).toThrow(/http\(s\)/);
  });

  it('never puts a secret in an error, and warns when others can read a file that holds one', () => {
    let message = '';
    try {
      resolveSettings({ config: file({ clientSecret: 'do-not-print-me', extra: 1 }) }, { OPENECM_CLIENT_SECRET: 'nor-me' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toMatch(/do-not-print-me|nor-me/);
    const path = file({ clientId: 'ops', clientSecret: 'readable-secret' }, 0o644);
    const settings = resolveSettings({ config: path }, {});
    expect(settings.warnings).toEqual([`${path} holds a client secret and others can read it: chmod 600 ${path}`]);
  });
});
