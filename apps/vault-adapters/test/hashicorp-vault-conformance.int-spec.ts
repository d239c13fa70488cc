import { describeVaultAdapterConformance } from '@openecm/vault-sdk/conformance';
import { CONFORMANCE_SERVICES } from './conformance-services';
import { createVaultSim } from '../../../tools/vault-sim/src/sim';

describeVaultAdapterConformance('HashiCorp Vault (AppRole, LDAP library)', {
  type: 'hashicorp-vault',
  reclaimsLostCheckouts: false,
  ...CONFORMANCE_SERVICES,
  async start() {
    const sim = createVaultSim();
    const address = await sim.listen(0);
    const settings = {
      address,
      allowInsecureHttp: true,
      timeoutSeconds: 3,
      auth: { method: 'approle', roleId: 'demo-role-id', secretId: 'demo-secret-id' },
      sources: [{ kind: 'library', set: 'rdp-admins', endpoints: ['srv-app01'], domain: 'CORP' }],
    };
    const libraryRotations = () => sim.state.rotations().filter((r) => r.kind === 'library').length;
    return {
      settings,
      wrongSecret: { ...settings, auth: { method: 'approle', roleId: 'demo-role-id', secretId: 'not-the-secret-id' } },
      user: 'alice',
      endpoint: 'srv-app01.corp.example',
      rotating: 'CORP\\rdp-admins',
      // check-outs lend the first free account of the set
      currentSecret: () => sim.state.passwordOf('library', 'ldap', 'svc-rdp-1') as string,
      rotations: libraryRotations,
      checkedOut: () => sim.state.checkouts().length,
      secrets: () => sim.state.allSecrets(),
      signIns: () => sim.state.stats().logins,
      expireSessions: () => void sim.state.expireLoginTokens(),
      fault(fault) {
        if (fault.kind === 'unavailable') sim.state.addFault({ status: 503, count: fault.count, body: { errors: ['Vault is sealed'] } });
        if (fault.kind === 'checkout-answer-lost') sim.state.addFault({ status: 503, count: 1, method: 'POST', path: '/check-out', afterHandler: true });
        if (fault.kind === 'session-rejected') sim.state.addFault({ status: 403, count: fault.count, path: 'ldap/library', body: { errors: ['permission denied'] } });
        if (fault.kind === 'slow-list') sim.state.addFault({ status: 200, count: 1, path: 'ldap/library', delayMs: fault.delayMs, through: true });
      },
      clearFaults: () => sim.state.clearFaults(),
      close: () => sim.close(),
    };
  },
});
