import { HashicorpVaultSettings, type HashicorpVaultSource } from '@openecm/contracts';
import { endpointMachines, kvJumpMethod, kvMachines, literalEndpoints } from './hashicorp-vault-systems';
import { machineSystems } from './systems';

const settings = HashicorpVaultSettings.parse({
  address: 'https://vault.corp.example:8200',
  auth: { method: 'token', token: 't' },
  sources: [
    { kind: 'library', set: 'rdp-admins', endpoints: ['srv-app01', '*.lab.example', ' srv-app02.corp.example '], users: ['CORP\\alice'] },
    { kind: 'static-role', role: 'db', endpoints: ['srv-db01', '10.0.0.31'], jumpMethod: 'shell' },
    { kind: 'kv', path: 'servers' },
    { kind: 'kv', mount: 'linux', jumpMethod: 'shell', machineKey: 'host', jumpMethodKey: 'via' },
  ],
});
const [library, role, kv, linuxKv] = settings.sources as [
  Extract<HashicorpVaultSource, { kind: 'library' }>,
  Extract<HashicorpVaultSource, { kind: 'static-role' }>,
  Extract<HashicorpVaultSource, { kind: 'kv' }>,
  Extract<HashicorpVaultSource, { kind: 'kv' }>,
];
const mapping = settings.userMapping;

describe('HashiCorp Vault systems for external jump items', () => {
  it('parses settings without a jump method as before, and refuses an unknown one by name', () => {
    expect(library.jumpMethod).toBeUndefined();
    expect(kv).toMatchObject({ machineKey: 'machine', jumpMethodKey: 'jump_method' });
    const bad = HashicorpVaultSettings.safeParse({ address: 'https://v', auth: { method: 'token', token: 't' }, sources: [{ kind: 'kv', jumpMethod: 'vnc' }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['sources', 0, 'jumpMethod']);
  });

  it('takes literal endpoints as systems and skips wildcard patterns', () => {
    expect(literalEndpoints(['srv-app01', '*.lab.example', 'web*', ' 10.0.0.5 ', ''])).toEqual(['srv-app01', '10.0.0.5']);
    expect(endpointMachines(library, 'alice@corp.example', mapping)).toEqual([
      { machine: 'srv-app01', jumpMethod: 'rdp' },
      { machine: 'srv-app02.corp.example', jumpMethod: 'rdp' },
    ]);
    expect(endpointMachines(role, 'anyone', mapping).map((m) => m.jumpMethod)).toEqual(['shell', 'shell']);
  });

  it("offers a set's endpoints only to its users, as the connection's user mapping compares them", () => {
    expect(endpointMachines(library, 'bob', mapping)).toEqual([]);
    expect(endpointMachines(library, 'alice', { match: 'exact' })).toEqual([]);
  });

  it("reads a KV secret's machines from its metadata: an account needed, its users respected, its jump method or the source's", () => {
    expect(kvMachines(kv, { machine: 'srv-web01, 10.0.0.21,*.web.example', account: 'root' }, 'alice', mapping)).toEqual([
      { machine: 'srv-web01', jumpMethod: 'rdp' },
      { machine: '10.0.0.21', jumpMethod: 'rdp' },
    ]);
    expect(kvMachines(kv, { machine: 'srv-web01' }, 'alice', mapping)).toEqual([]);
    expect(kvMachines(kv, { machine: 'srv-web01', account: 'deploy', users: 'bob' }, 'alice', mapping)).toEqual([]);
    expect(kvMachines(kv, { machine: 'srv-web01', account: 'deploy', users: 'bob' }, 'CORP\\bob', mapping)).toHaveLength(1);
    expect(kvMachines(kv, { machine: 'srv-web01', account: 'root', jump_method: 'SSH' }, 'alice', mapping)).toEqual([{ machine: 'srv-web01', jumpMethod: 'shell' }]);
    expect(kvMachines(kv, { machine: 'db01', account: 'sa', jump_method: 'database' }, 'alice', mapping)).toEqual([]);
    expect(kvMachines(linuxKv, { host: 'lnx01', account: 'root' }, 'alice', mapping)).toEqual([{ machine: 'lnx01', jumpMethod: 'shell' }]);
    expect(kvMachines(linuxKv, { host: 'win01', account: 'admin', via: 'rdp' }, 'alice', mapping)).toEqual([{ machine: 'win01', jumpMethod: 'rdp' }]);
    expect([kvJumpMethod(undefined, undefined), kvJumpMethod(' ', 'shell'), kvJumpMethod('Shell', 'rdp'), kvJumpMethod('web', 'rdp')]).toEqual(['rdp', 'shell', 'shell', undefined]);
  });

  it('answers one system per name across secrets and sources, matched case-insensitively, sorted, bounded', () => {
    const found = [
      { machine: 'SRV-WEB01', jumpMethod: 'shell' as const },
      { machine: 'srv-web01.', jumpMethod: 'rdp' as const },
      { machine: '10.0.0.21', jumpMethod: 'shell' as const },
      { machine: 'srv-app01', jumpMethod: 'rdp' as const },
      { machine: 'srv-db01', jumpMethod: 'rdp' as const },
    ];
    const all = machineSystems('hcv', found, 'srv-', 10, false);
    expect(all).toEqual({
      truncated: false,
      systems: [
        { vault: 'hcv', ref: { machine: 'srv-app01' }, name: 'srv-app01', hostname: 'srv-app01', ip: null, jumpMethod: 'rdp', comments: '', networkId: null },
        { vault: 'hcv', ref: { machine: 'srv-db01' }, name: 'srv-db01', hostname: 'srv-db01', ip: null, jumpMethod: 'rdp', comments: '', networkId: null },
        { vault: 'hcv', ref: { machine: 'srv-web01' }, name: 'SRV-WEB01', hostname: 'SRV-WEB01', ip: null, jumpMethod: 'shell', comments: '', networkId: null },
      ],
    });
    expect(machineSystems('hcv', found, '10.0.', 10, false).systems).toEqual([expect.objectContaining({ name: '10.0.0.21', ip: '10.0.0.21' })]);
    const first = machineSystems('hcv', found, 'srv-', 2, false);
    expect(first).toMatchObject({ truncated: true, systems: [{ name: 'srv-app01' }, { name: 'srv-db01' }] });
    expect(machineSystems('hcv', found, 'srv-', 10, true).truncated).toBe(true);
  });
});
