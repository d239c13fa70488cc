import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createSimServer, lateFaultSchema, errorStatus, registerControlRoutes, registerVendorFaults, sendJson, type SimOptions, type Simulator } from '@openecm/sim-kit';
import { EMPTY_SEED, loadDemoSeed, simSeedSchema, type SimSeed } from './seed';
import { SimState, VaultApiError, permissionDenied } from './state';

export { EMPTY_SEED, DEMO_SEED_PATH, loadDemoSeed, loadSeedFile, simSeedSchema, type SimSeed } from './seed';
export { NO_ACCOUNTS, SimState, type Rotation, type SimFault, type SimStats } from './state';

export type VaultSimOptions = SimOptions<SimSeed>;

/** `listen` resolves to the Vault address (scheme, host and port: the API is below `/v1`). */
export type VaultSim = Simulator<SimState>;

const faultSchema = lateFaultSchema(z.record(z.string(), z.unknown()));

const API = '/v1';

/** Vault's answer envelope: every field present, `null` where there is nothing. */
function envelope(parts: { data?: unknown; auth?: unknown; leaseId?: string; leaseDuration?: number; renewable?: boolean; warnings?: string[] }) {
  return {
    request_id: randomUUID(),
    lease_id: parts.leaseId ?? '',
    renewable: parts.renewable ?? false,
    lease_duration: parts.leaseDuration ?? 0,
    data: parts.data ?? null,
    wrap_info: null,
    warnings: parts.warnings && parts.warnings.length > 0 ? parts.warnings : null,
    auth: parts.auth ?? null,
  };
}

const errorsBody = (error: VaultApiError) => ({ errors: error.errors });

/**
 * A HashiCorp Vault / OpenBao simulator for what the broker calls: AppRole login and token lookup, the LDAP
 * secrets engine's service-account library and static roles, and KV version 2 with custom metadata. Vault's
 * quirks kept: `X-Vault-Token` (403 `permission denied` without a valid one), `{"errors": [...]}`, lease ids and
 * durations, `warnings`, token TTLs on the simulator's clock, and `X-Vault-Namespace` when the seed names one.
 */
export function createVaultSim(options: VaultSimOptions = {}): VaultSim {
  const state = new SimState(options.seed ?? loadDemoSeed());
  const logger = options.logger;
  const server = createSimServer({
    basePath: '',
    tls: options.tls,
    invalidJson: () => new VaultApiError(400, ['failed to parse JSON input: invalid character']),
    logger,
    requestLogMessage: 'vault simulator request',
  });
  const app: FastifyInstance = server.app;

  app.setErrorHandler((error: unknown, _request, reply) => {
    if (error instanceof VaultApiError) return sendJson(reply, error.status, errorsBody(error));
    const status = errorStatus(error);
    if (status >= 400 && status < 500) return sendJson(reply, status, { errors: [error instanceof Error ? error.message : 'bad request'] });
    logger?.error({ error: error instanceof Error ? error.name : typeof error }, 'vault simulator failure');
    return sendJson(reply, 500, { errors: ['internal error'] });
  });
  app.setNotFoundHandler((_request, reply) => sendJson(reply, 404, { errors: [] }));

  app.register(
    async (api) => {
      registerVendorFaults(api, {
        basePath: API,
        closing: server.closing,
        take: (request, relativePath) => state.takeFault(request.method, relativePath),
        send: (fault, reply) => sendJson(reply, fault.status, fault.body ?? { errors: ['simulated failure'] }),
        replace(fault, reply) {
          reply.type('application/json; charset=utf-8');
          return JSON.stringify(fault.body ?? { errors: ['simulated failure'] });
        },
        now: () => state.now(),
      });

      api.get('/sys/health', async (_request, reply) =>
        sendJson(reply, 200, { initialized: true, sealed: false, standby: false, version: '1.17.0-sim', server_time_utc: Math.floor(state.now() / 1000) }),
      );

      const route = async (request: FastifyRequest, reply: FastifyReply) => {
        const path = (request.url.split('?')[0] ?? '').slice(API.length + 1).replace(/\/+$/, '');
        const query = new URLSearchParams(request.url.split('?')[1] ?? '');
        if (state.namespace !== undefined && request.headers['x-vault-namespace'] !== state.namespace) throw permissionDenied();
        const login = /^auth\/(.+)\/login$/.exec(path);
        if (login && request.method === 'POST' && login[1] !== 'token') {
          const token = state.login(login[1] as string, request.body);
          return sendJson(
            reply,
            200,
            envelope({
              auth: {
                client_token: token.token,
                accessor: token.accessor,
                policies: token.policies,
                token_policies: token.policies,
                metadata: { role_name: token.roleName },
                lease_duration: token.ttlSeconds,
                renewable: true,
                entity_id: token.entityId,
                token_type: 'service',
                orphan: true,
              },
            }),
          );
        }
        const token = state.authenticate(request.headers['x-vault-token']);
        if (path === 'auth/token/lookup-self' && request.method === 'GET') {
          return sendJson(reply, 200, envelope({ data: { accessor: token.accessor, entity_id: token.entityId, policies: token.policies, ttl: state.ttlLeft(token), renewable: token.expiresAt !== 0 } }));
        }
        const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
        const ldap = matchMount(path, (m) => state.isLdapMount(m));
        if (ldap) {
          const [mount, rest] = ldap;
          let m: RegExpExecArray | null;
          if ((m = /^library\/([^/]+)$/.exec(rest)) && request.method === 'GET') return sendJson(reply, 200, envelope({ data: state.readLibrary(mount, m[1] as string) }));
          if ((m = /^library\/([^/]+)\/status$/.exec(rest)) && request.method === 'GET') return sendJson(reply, 200, envelope({ data: state.libraryStatus(mount, m[1] as string) }));
          if ((m = /^library\/([^/]+)\/check-out$/.exec(rest)) && request.method === 'POST') {
            const out = state.checkOut(mount, m[1] as string, token, body['ttl']);
            return sendJson(reply, 200, envelope({ data: out.data, leaseId: out.leaseId, leaseDuration: out.leaseSeconds, renewable: true, warnings: out.warnings }));
          }
          if ((m = /^library\/([^/]+)\/check-in$/.exec(rest)) && request.method === 'POST') {
            return sendJson(reply, 200, envelope({ data: { check_ins: state.checkIn(mount, m[1] as string, token, body['service_account_names']) } }));
          }
          if ((m = /^static-role\/([^/]+)$/.exec(rest)) && request.method === 'GET') return sendJson(reply, 200, envelope({ data: state.staticRoleInfo(mount, m[1] as string) }));
          if ((m = /^static-cred\/([^/]+)$/.exec(rest)) && request.method === 'GET') return sendJson(reply, 200, envelope({ data: state.staticCred(mount, m[1] as string) }));
          if ((m = /^rotate-role\/([^/]+)$/.exec(rest)) && request.method === 'POST') {
            state.rotateRole(mount, m[1] as string);
            return reply.code(204).send();
          }
        }
        const kv = matchMount(path, (m) => state.isKvMount(m));
        if (kv && request.method === 'GET') {
          const [mount, rest] = kv;
          const meta = /^metadata(?:\/(.*))?$/.exec(rest);
          if (meta && query.get('list') === 'true') {
            const keys = state.listKeys(mount, meta[1] ?? '');
            if (!keys) throw new VaultApiError(404, []);
            return sendJson(reply, 200, envelope({ data: { keys } }));
          }
          const secret = meta?.[1] ? state.kvSecret(mount, meta[1]) : undefined;
          if (meta?.[1]) {
            if (!secret) throw new VaultApiError(404, []);
            return sendJson(reply, 200, envelope({ data: { custom_metadata: secret.customMetadata, current_version: 1, max_versions: 0, versions: { 1: { destroyed: false, deletion_time: '' } } } }));
          }
          const data = /^data\/(.+)$/.exec(rest);
          if (data) {
            const found = state.kvSecret(mount, data[1] as string);
            if (!found) throw new VaultApiError(404, []);
            return sendJson(reply, 200, envelope({ data: { data: found.data, metadata: { created_time: new Date(state.now()).toISOString(), custom_metadata: found.customMetadata, deletion_time: '', destroyed: false, version: 1 } } }));
          }
        }
        throw new VaultApiError(404, [`no handler for route "${path}". route entry not found.`]);
      };
      api.get('/*', route);
      api.post('/*', route);
    },
    { prefix: API },
  );

  app.register(
    async (control) => {
      control.get('/checkouts', async (_request, reply) => sendJson(reply, 200, { checkouts: state.checkouts() }));
      control.get('/rotations', async (_request, reply) => sendJson(reply, 200, { rotations: state.rotations() }));
      control.post('/tokens/expire', async (_request, reply) => sendJson(reply, 200, { expired: state.expireLoginTokens() }));
      registerControlRoutes(control, { state, faultSchema, seedSchema: simSeedSchema, emptySeed: EMPTY_SEED });
    },
    { prefix: '/_sim' },
  );

  return { app, state, listen: server.listen, close: server.close };
}

/** The mount a path starts with (mounts may have `/` in them; the longest wins) and what follows it. */
function matchMount(path: string, isMount: (mount: string) => boolean): [string, string] | undefined {
  const parts = path.split('/');
  for (let n = parts.length - 1; n >= 1; n -= 1) {
    const mount = parts.slice(0, n).join('/');
    if (isMount(mount)) return [mount, parts.slice(n).join('/')];
  }
  return undefined;
}
