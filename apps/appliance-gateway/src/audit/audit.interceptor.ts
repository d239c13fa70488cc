import { Injectable, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { GATEWAY_ROUTES, OpenEcmError, type GatewayRouteId, type RouteAccess } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import type { Request } from 'express';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { principalOf } from '../oauth/api-auth.guard';
import { AuditTrail, type AuditEntry } from './audit-trail.service';

type Audited = Omit<AuditEntry, 'actor' | 'outcome'>;
type Describe = (request: Request, answer: Record<string, unknown> | undefined) => Audited;

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const field = (source: unknown, name: string): unknown => (source && typeof source === 'object' ? (source as Record<string, unknown>)[name] : undefined);
/** Body fields an admin change may name in its record: identifiers only, never settings. */
const ADMIN_FIELDS = ['user', 'endpoint', 'clientId', 'permissions', 'type', 'enabled', 'level', 'service', 'policies', 'reason'] as const;

/** What each audited route records: identifiers taken from the request and its answer, never a secret. */
const AUDITED: Partial<Record<GatewayRouteId, Describe>> = {
  listCredentials: (req, answer) => {
    const credentials = (field(answer, 'credentials') as Array<{ vault: string }> | undefined) ?? [];
    const pending = (field(answer, 'pending') as Array<{ vault: string }> | undefined) ?? [];
    return {
      kind: 'credentials.list',
      user: str(field(req.query, 'user')),
      endpoint: str(field(req.query, 'endpoint')),
      details: { protocol: str(field(req.query, 'protocol')), listed: credentials.length, vaults: [...new Set(credentials.map((c) => c.vault))], pending: pending.map((p) => p.vault) },
    };
  },
  injectCredential: (req, answer) => {
    const username = str(field(answer, 'username'));
    const domain = str(field(answer, 'domain'));
    return {
      kind: 'injection',
      user: str(field(req.body, 'user')),
      endpoint: str(field(req.body, 'endpoint')),
      credential: username && domain ? `${domain}\\${username}` : username,
      leaseId: str(field(answer, 'leaseId')),
      details: {
        credentialId: str(field(req.body, 'credentialId')),
        sessionId: str(field(req.body, 'sessionId')),
        releaseAt: str(field(answer, 'releaseAt')),
        // an approval asked for instead of a secret, emergency access, and the reason the user gave
        approvalId: str(field(answer, 'approvalId')),
        emergency: field(req.body, 'emergency') === true,
        reason: str(field(req.body, 'reason')),
      },
    };
  },
  decideApproval: (req, answer) => ({
    kind: 'approval.decision',
    user: str(field(req.body, 'approver')),
    endpoint: str(field(answer, 'endpoint')),
    vault: str(field(answer, 'vault')),
    credential: str(field(answer, 'credentialName')),
    details: { approvalId: str(req.params['approvalId']), decision: str(field(req.body, 'decision')), status: str(field(answer, 'status')), requester: str(field(answer, 'user')) },
  }),
  releaseLease: (req, answer) => ({
    kind: 'lease.release',
    leaseId: str(req.params['leaseId']),
    details: { rotation: str(field(answer, 'rotation')) },
  }),
};

function adminChange(routeId: GatewayRouteId): Describe {
  return (req) => {
    const body: Record<string, unknown> = {};
    for (const name of ADMIN_FIELDS) {
      const value = field(req.body, name);
      if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number' || Array.isArray(value)) body[name] = value;
    }
    const params = { ...(req.params as Record<string, string>) };
    return {
      kind: 'admin.change',
      user: str(params['user']) ?? str(body['user']),
      endpoint: str(body['endpoint']),
      vault: routeId.toLowerCase().includes('vault') ? str(params['name']) : null,
      details: { route: routeId, method: req.method, params, fields: body },
    };
  };
}

/** `GET /api/v1/leases/:leaseId` (Express's route path) to what records it, for every audited route. */
const BY_ROUTE = new Map<string, { id: GatewayRouteId; describe: Describe }>();
for (const [id, route] of Object.entries(GATEWAY_ROUTES) as Array<[GatewayRouteId, (typeof GATEWAY_ROUTES)[GatewayRouteId]]>) {
  const access: RouteAccess = route.access;
  const isAdminChange = typeof access === 'object' && access.permission === 'admin' && route.method !== 'get';
  const describe = AUDITED[id] ?? (isAdminChange && id !== 'verifyAuditChain' ? adminChange(id) : undefined);
  if (describe) BY_ROUTE.set(`${route.method.toUpperCase()} ${route.path.replace(/\{(\w+)\}/g, ':$1')}`, { id, describe });
}

/**
 * Records every credential use and admin change before its answer leaves: a success whose record cannot be
 * committed is answered 503 instead (an injection's lease released, so its secret is never handed out), and a
 * failure is recorded with its error code.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('audit');

  constructor(
    private readonly trail: AuditTrail,
    private readonly bus: Bus,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<Request>();
    const audited = BY_ROUTE.get(`${request.method} ${(request.route as { path?: string } | undefined)?.path ?? ''}`);
    if (!audited) return next.handle();
    return from(this.around(request, audited, next));
  }

  private async around(request: Request, audited: { id: GatewayRouteId; describe: Describe }, next: CallHandler): Promise<unknown> {
    const actor = principalOf(request)?.clientId ?? null;
    let answer: unknown;
    try {
      answer = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      const outcome = error instanceof OpenEcmError ? error.code : 'INTERNAL';
      await this.trail
        .record({ ...audited.describe(request, undefined), actor, outcome })
        .catch((failure: unknown) => this.logger.error({ event: 'audit.record-failed', route: audited.id, err: failure instanceof Error ? failure.message : String(failure), msg: 'a failed call could not be recorded' }));
      throw error;
    }
    const entry = { ...audited.describe(request, answer as Record<string, unknown> | undefined), actor, outcome: 'ok' };
    try {
      await this.trail.record(entry);
    } catch (failure) {
      this.logger.error({ event: 'audit.record-failed', route: audited.id, err: failure instanceof Error ? failure.message : String(failure), msg: 'no audit record, no answer' });
      if (audited.id === 'injectCredential' && entry.leaseId) {
        // the secret is never handed out: the vault checks the credential in and rotates it
        await this.bus.request('policy.lease.release.v1', { leaseId: entry.leaseId, owner: actor }).catch(() => undefined);
      }
      throw new OpenEcmError('SERVICE_UNAVAILABLE', 'the audit record could not be written');
    }
    return answer;
  }
}
