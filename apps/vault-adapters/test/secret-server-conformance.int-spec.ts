import { describeVaultAdapterConformance } from '@openecm/vault-sdk/conformance';
import { CONFORMANCE_SERVICES } from './conformance-services';
import { SOAP_ENVELOPE_NS, SS_NS, createSecretServerSim, loadDemoSeed } from '../../../tools/secret-server-sim/src/sim';

/** Checked out on access, its password changed when checked in: the secret the kit checks out and rotates. */
const SVC_DEPLOY = 105;
const SEARCH = 'SearchSecretsByFieldValue';

/** What Secret Server answers a call made with a token it no longer knows: a result whose Errors say so. */
const expiredToken = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP_ENVELOPE_NS}"><soap:Body><${SEARCH}Response xmlns="${SS_NS}"><${SEARCH}Result><Errors><string>Token is invalid or expired.</string></Errors></${SEARCH}Result></${SEARCH}Response></soap:Body></soap:Envelope>`;

describeVaultAdapterConformance('Secret Server (SOAP, impersonation)', {
  type: 'secret-server',
  reclaimsLostCheckouts: true,
  ...CONFORMANCE_SERVICES,
  async start() {
    const sim = createSecretServerSim();
    const endpointUrl = `${await sim.listen(0)}/webservices/SSWebService.asmx`;
    const settings = { endpointUrl, apiUser: 'openecm-api', apiPassword: 'openecm-api-demo-pass', allowInsecureHttp: true, timeoutSeconds: 3 };
    const seed = loadDemoSeed();
    const control = () => sim.state.secretControlView(SVC_DEPLOY) as { checkedOut: boolean; rotations: number };
    const passwords = () =>
      (seed.secrets ?? []).flatMap((s) => {
        try {
          return [sim.state.passwordOf(s.id)];
        } catch {
          return [];
        }
      });
    return {
      settings,
      wrongSecret: { ...settings, apiPassword: 'not-the-api-password' },
      user: 'CORP\\alice',
      endpoint: 'srv-app01',
      rotating: 'srv-app01 svc-deploy (check-out)',
      currentSecret: () => sim.state.passwordOf(SVC_DEPLOY),
      rotations: () => control().rotations,
      checkedOut: () => (control().checkedOut ? 1 : 0),
      secrets: () => [...(seed.users ?? []).flatMap((u) => (u.password ? [u.password] : [])), ...passwords()],
      signIns: () => sim.state.stats().impersonate.total - sim.state.stats().impersonate.failed,
      expireSessions: () => void sim.state.expireAllTokens(true),
      fault(fault) {
        if (fault.kind === 'unavailable') sim.state.addFault({ status: 503, count: fault.count });
        // Secret Server's check-out is the secret's own state, known by its id before the call: a 503 before it acts
        if (fault.kind === 'checkout-answer-lost') sim.state.addFault({ status: 503, count: 1, operation: 'GetSecret' });
        if (fault.kind === 'session-rejected') sim.state.addFault({ status: 200, count: fault.count, operation: SEARCH, contentType: 'text/xml; charset=utf-8', body: expiredToken });
        if (fault.kind === 'slow-list') sim.state.addFault({ count: 1, operation: SEARCH, delayMs: fault.delayMs });
      },
      clearFaults: () => sim.state.clearFaults(),
      close: () => sim.close(),
    };
  },
});
