import { describeVaultAdapterConformance } from '@openecm/vault-sdk/conformance';
import { CONFORMANCE_SERVICES } from './conformance-services';
import { createPasswordSafeSim, loadDemoSeed } from '../../../tools/password-safe-sim/src/sim';

const ADMINISTRATOR = 1001;

describeVaultAdapterConformance('Password Safe (API key, run-as user)', {
  type: 'password-safe',
  reclaimsLostCheckouts: true,
  ...CONFORMANCE_SERVICES,
  async start() {
    const sim = createPasswordSafeSim({ idleTimeoutMs: 60_000 });
    const baseUrl = await sim.listen(0);
    const settings = { baseUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' }, releaseDurationMinutes: 90, rotateAfterRelease: true };
    const seed = loadDemoSeed();
    const accounts = [...(seed.managedAccounts ?? []), ...(seed.domainLinkedAccounts ?? [])].map((a) => a.AccountId);
    return {
      settings,
      wrongSecret: { ...settings, auth: { mode: 'api-key', apiKey: 'not-the-api-key' } },
      user: 'alice',
      endpoint: 'srv-app01',
      rotating: 'srv-app01\\Administrator',
      currentSecret: () => sim.state.passwordOf(ADMINISTRATOR),
      rotations: () => sim.state.rotationsOf(ADMINISTRATOR),
      checkedOut: () => sim.state.activeRequests().filter((r) => r.accountId === ADMINISTRATOR).length,
      secrets: () => ['demo-api-key', 'demo-api-key-pwd', 'demo-secret', ...accounts.map((id) => sim.state.passwordOf(id))],
      signIns: () => sim.state.stats().signIns.total,
      expireSessions: () => void sim.state.expireAllSessions(),
      fault(fault) {
        if (fault.kind === 'unavailable') sim.state.addFault({ status: 503, count: fault.count });
        if (fault.kind === 'checkout-answer-lost') sim.state.addFault({ status: 503, count: 1, method: 'POST', path: 'Requests', afterHandler: true });
        if (fault.kind === 'session-rejected') sim.state.addFault({ status: 401, count: fault.count, path: 'ManagedSystems' });
        if (fault.kind === 'slow-list') sim.state.addFault({ status: 200, count: 1, path: 'ManagedSystems', delayMs: fault.delayMs, through: true });
      },
      clearFaults: () => sim.state.clearFaults(),
      close: () => sim.close(),
    };
  },
});
