import { worstStatus, type DiagnosticCheck, type DiagnosticsReport } from '@openecm/contracts';
import { ApiError, type GatewayClient } from './gateway-client';

/** Diagnostics wait on every vault's Test Settings; the gateway bounds each, this bounds the whole. */
const DIAGNOSTICS_TIMEOUT_MS = 150_000;

export interface DoctorReport extends DiagnosticsReport {
  gateway: string;
}

/** A step the CLI itself could not take: what the gateway said (or why it said nothing), and what to do. */
function failedStep(id: string, title: string, error: unknown, remedy?: string): DiagnosticCheck {
  const detail = error instanceof ApiError ? error.message : `${title.toLowerCase()} failed`;
  return { id, title, status: 'fail', detail, ...(remedy ? { remedy } : {}) };
}

const status = (error: unknown) => (error instanceof ApiError ? error.status : undefined);

/**
 * The gateway reachable, the account able to sign in and allowed to ask, then the gateway's own walk. A step
 * the CLI cannot take ends the walk there, naming that step.
 */
export async function runDoctor(client: GatewayClient, target: { user?: string; endpoint?: string }): Promise<DoctorReport> {
  const checks: DiagnosticCheck[] = [];
  const done = (): DoctorReport => ({ status: worstStatus(checks), generatedAt: new Date().toISOString(), gateway: client.url, checks });

  try {
    const ready = await client.probe('/health/ready');
    const down = Object.entries((ready.body as { checks?: Record<string, string> } | undefined)?.checks ?? {})
      .filter(([, s]) => s !== 'up')
      .map(([n]) => n);
    checks.push(
      ready.status === 200
        ? { id: 'gateway', title: 'Gateway', status: 'ok', detail: `${client.url} answers and is ready` }
        : {
            id: 'gateway',
            title: 'Gateway',
            status: 'fail',
            detail: `${client.url} answers but is not ready (HTTP ${ready.status}${down.length ? `; down: ${down.join(', ')}` : ''})`,
            remedy: 'see the steps below for what it cannot reach',
          },
    );
  } catch (error) {
    checks.push(failedStep('gateway', 'Gateway', error, 'start appliance-gateway, or point the CLI at it (--url, OPENECM_URL or url in the config file)'));
    return done();
  }

  try {
    await client.signIn();
    checks.push({ id: 'sign-in', title: 'Sign-in', status: 'ok', detail: `signed in as ${client.clientId}` });
  } catch (error) {
    const remedy =
      status(error) === 401
        ? 'check the client id and secret (OPENECM_CLIENT_ID, OPENECM_CLIENT_SECRET or the config file); the account may have been deleted'
        : 'configure an API account with the admin permission';
    checks.push(failedStep('sign-in', 'Sign-in', error, remedy));
    return done();
  }

  const query = new URLSearchParams({ ...(target.user ? { user: target.user } : {}), ...(target.endpoint ? { endpoint: target.endpoint } : {}) }).toString();
  try {
    const report = await client.call<DiagnosticsReport>('GET', `/api/v1/admin/diagnostics${query ? `?${query}` : ''}`, undefined, DIAGNOSTICS_TIMEOUT_MS);
    checks.push(...report.checks);
  } catch (error) {
    const remedy = status(error) === 403 ? `give ${client.clientId} the admin permission, or sign in with an account that has it` : undefined;
    checks.push(failedStep('diagnostics', 'Diagnostics', error, remedy));
  }
  return done();
}
