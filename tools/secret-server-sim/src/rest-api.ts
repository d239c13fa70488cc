import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { REST_AUTH_FAILED, REST_ERRORS, SimError } from './errors';
import { attachmentName, itemId, type SecretView, type Session, type SimState } from './state';

const JSON_TYPE = 'application/json; charset=utf-8';
const NOT_VALID_FOR_DISPLAY = '*** Not Valid For Display ***';
const DEFAULT_TAKE = 10;
const MAX_TAKE = 1000;

/** A REST answer other than success, in the vendor's JSON shapes. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body['message'] === 'string' ? body['message'] : `Secret Server REST error ${status}`);
    this.name = 'RestError';
  }
}

const invalid = (message = 'The request is invalid.'): RestError => new RestError(400, { message });

/** Maps a state failure onto the REST shape: 400 `{error}` for sign-in, `{message}` (and `errorCode`) otherwise. */
export function restErrorOf(error: SimError): RestError {
  if (error.code === 'LOGIN_FAILED') return new RestError(400, { error: error.message });
  if (error.code === 'TOKEN_INVALID') return new RestError(401, { message: REST_AUTH_FAILED });
  const mapping = REST_ERRORS[error.code];
  return new RestError(mapping.status, { ...(mapping.errorCode ? { errorCode: mapping.errorCode } : {}), message: error.message });
}

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(JSON_TYPE).send(JSON.stringify(body));
}

export function registerRestApi(api: FastifyInstance, state: SimState): void {
  const session = (request: FastifyRequest): Session => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    return state.session(match?.[1]);
  };

  api.post('/oauth2/token', async (request, reply) => {
    if (!/^application\/x-www-form-urlencoded(\s*;|$)/i.test(request.headers['content-type'] ?? '')) {
      return sendJson(reply, 400, { error: 'invalid_request' });
    }
    const form = formFields(request.body);
    const ttlSeconds = Math.floor(state.tokenTtlMs / 1000);
    const grantType = form['grant_type'];
    if (grantType === 'password') {
      // The domain has its own field; `DOMAIN\user` in username is looked up literally and fails.
      const issued = state.login(
        { username: form['username'] ?? '', password: form['password'] ?? '', domain: form['domain'] ?? '', organization: form['organization'] ?? '' },
        'rest',
      );
      return sendJson(reply, 200, {
        access_token: issued.token,
        refresh_token: state.issueRefresh(issued.user),
        token_type: 'bearer',
        expires_in: ttlSeconds,
      });
    }
    if (grantType === 'refresh_token') {
      const issued = state.refresh(form['refresh_token'] ?? '');
      return sendJson(reply, 200, { access_token: issued.token, refresh_token: issued.refreshToken, token_type: 'bearer', expires_in: ttlSeconds });
    }
    return sendJson(reply, 400, { error: 'unsupported_grant_type' });
  });

  api.get('/api/v1/secrets', async (request, reply) => {
    const current = session(request);
    const query = lowerQuery(request.query);
    const text = single(query, 'filter.searchtext');
    const searchField = single(query, 'filter.searchfield');
    const searchSlug = single(query, 'filter.searchfieldslug');
    const extended = query.get('filter.extendedfields') ?? [];
    const take = integer(single(query, 'take'), DEFAULT_TAKE, 0, Number.MAX_SAFE_INTEGER);
    const skip = integer(single(query, 'skip'), 0, 0, Number.MAX_SAFE_INTEGER);
    const folderId = single(query, 'filter.folderid');
    const templateId = single(query, 'filter.secrettemplateid');
    const criteria = {
      exact: bool(single(query, 'filter.isexactmatch')),
      includeRestricted: bool(single(query, 'filter.includerestricted')),
      includeInactive: bool(single(query, 'filter.includeinactive')),
      ...(text === undefined ? {} : { text }),
      ...(searchSlug
        ? { field: (f: { slug: string }) => f.slug === searchSlug.toLowerCase() }
        : searchField
          ? { field: (f: { name: string; slug: string }) => f.name.toLowerCase() === searchField.toLowerCase() || f.slug === searchField.toLowerCase() }
          : {}),
      ...(folderId === undefined ? {} : { folderId: integer(folderId, 0, -1, Number.MAX_SAFE_INTEGER) }),
      ...(templateId === undefined ? {} : { templateId: integer(templateId, 0, 1, Number.MAX_SAFE_INTEGER) }),
    };
    const found = state.search(current, criteria);
    const pageSize = Math.min(Math.max(take, 1), MAX_TAKE);
    const records = found.slice(skip, skip + pageSize).map((secret) => summaryJson(secret, extended));
    const pageCount = Math.ceil(found.length / pageSize);
    return sendJson(reply, 200, {
      filter: {
        searchText: text ?? null,
        searchField: searchField ?? null,
        searchFieldSlug: searchSlug ?? null,
        isExactMatch: criteria.exact,
        includeRestricted: criteria.includeRestricted,
        includeInactive: criteria.includeInactive,
        extendedFields: extended.length > 0 ? extended : null,
      },
      skip,
      take: pageSize,
      total: found.length,
      pageCount,
      currentPage: Math.floor(skip / pageSize) + 1,
      batchCount: pageCount,
      prevSkip: Math.max(0, skip - pageSize),
      nextSkip: skip + pageSize,
      hasPrev: skip > 0,
      hasNext: skip + pageSize < found.length,
      records,
      sortBy: [],
      success: true,
      severity: 'None',
    });
  });

  // The summary: whether the secret is checked out and to whom, without its values and without checking it out.
  api.get('/api/v1/secrets/:id/summary', async (request, reply) =>
    sendJson(reply, 200, summaryJson(state.secretSummary(session(request), secretIdOf(request.params)), [])),
  );

  // The plain GET checks a check-out secret out unless noAutoCheckout=true; comments need the POST below.
  api.get('/api/v1/secrets/:id', async (request, reply) => {
    const current = session(request);
    const noAutoCheckout = bool(single(lowerQuery(request.query), 'noautocheckout'));
    const secret = state.openSecret(current, secretIdOf(request.params), { autoCheckout: !noAutoCheckout }, 'rest');
    return sendJson(reply, 200, secretJson(secret));
  });

  api.post('/api/v1/secrets/:id/restricted', async (request, reply) => {
    const current = session(request);
    const args = restrictedArgs(request.body);
    const secret = state.openSecret(current, secretIdOf(request.params), args, 'rest');
    return sendJson(reply, 200, secretJson(secret));
  });

  const sendField = (reply: FastifyReply, secret: SecretView, slug: string): FastifyReply => {
    const item = secret.items.find((i) => i.field.slug === slug.toLowerCase());
    if (!item) throw new RestError(404, { message: `Field '${slug}' was not found on secret ${secret.id}.` });
    if (item.field.isFile) {
      return reply
        .code(200)
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename=${attachmentName(item.field.slug)}`)
        .send(Buffer.from(item.value, 'utf8'));
    }
    return sendJson(reply, 200, item.value);
  };

  api.get('/api/v1/secrets/:id/fields/:slug', async (request, reply) => {
    const current = session(request);
    const noAutoCheckout = bool(single(lowerQuery(request.query), 'noautocheckout'));
    const secret = state.openSecret(current, secretIdOf(request.params), { autoCheckout: !noAutoCheckout }, 'rest');
    return sendField(reply, secret, slugOf(request.params));
  });

  api.post('/api/v1/secrets/:id/restricted/fields/:slug', async (request, reply) => {
    const current = session(request);
    const secret = state.openSecret(current, secretIdOf(request.params), restrictedArgs(request.body), 'rest');
    return sendField(reply, secret, slugOf(request.params));
  });

  api.post('/api/v1/secrets/:id/check-in', async (request, reply) => {
    const secret = state.checkIn(session(request), secretIdOf(request.params), 'rest');
    return sendJson(reply, 200, summaryJson(secret, []));
  });

  api.get('/api/v1/users/current', async (request, reply) => {
    const { user } = session(request);
    return sendJson(reply, 200, {
      id: user.seed.id,
      userName: user.seed.username,
      displayName: user.displayName,
      domainId: user.domainId,
      emailAddress: user.seed.email,
      enabled: true,
    });
  });

  api.get('/api/v1/version', async (_request, reply) => sendJson(reply, 200, { success: true, model: { version: state.version } }));
}

function summaryJson(secret: SecretView, extendedFields: string[]): Record<string, unknown> {
  const extended = extendedFields.flatMap((name) => {
    // Summaries never carry secret values, whatever a caller asks for.
    const item = secret.items.find((i) => i.field.name.toLowerCase() === name.toLowerCase() && !i.field.isPassword && !i.field.isFile);
    return item ? [{ name: item.field.name, value: item.value }] : [];
  });
  return {
    id: secret.id,
    name: secret.name,
    secretTemplateId: secret.template.id,
    secretTemplateName: secret.template.name,
    folderId: secret.folderId ?? -1,
    siteId: 1,
    active: secret.active,
    checkedOut: secret.checkout !== undefined,
    checkOutEnabled: secret.checkOutEnabled,
    checkOutUserId: secret.checkout?.userId ?? -1,
    checkOutUserName: secret.checkout?.displayName ?? '',
    isRestricted: secret.isRestricted,
    requiresComment: secret.requiresComment,
    requiresApproval: secret.requiresApprovalForAccess,
    autoChangeEnabled: false,
    doubleLockEnabled: false,
    inheritsPermissions: secret.inheritPermissions,
    hidePassword: false,
    isOutOfSync: false,
    outOfSyncReason: '',
    lastHeartBeatStatus: 'Pending',
    lastPasswordChangeAttempt: null,
    lastAccessed: null,
    responseCodes: null,
    daysUntilExpiration: null,
    hasLauncher: false,
    extendedFields: extendedFields.length > 0 ? extended : null,
  };
}

function secretJson(secret: SecretView): Record<string, unknown> {
  return {
    id: secret.id,
    name: secret.name,
    secretTemplateId: secret.template.id,
    secretTemplateName: secret.template.name,
    folderId: secret.folderId ?? -1,
    siteId: 1,
    active: secret.active,
    checkedOut: secret.checkout !== undefined,
    checkOutMinutesRemaining: secret.checkout?.minutesRemaining ?? null,
    checkOutUserDisplayName: secret.checkout?.displayName ?? null,
    checkOutUserId: secret.checkout?.userId ?? null,
    isRestricted: secret.isRestricted,
    isOutOfSync: false,
    outOfSyncReason: '',
    autoChangeEnabled: false,
    requiresApprovalForAccess: secret.requiresApprovalForAccess,
    requiresComment: secret.requiresComment,
    checkOutEnabled: secret.checkOutEnabled,
    checkOutIntervalMinutes: secret.checkOutEnabled ? secret.checkOutIntervalMinutes : null,
    checkOutChangePasswordEnabled: secret.checkOutChangePasswordEnabled,
    enableInheritPermissions: secret.inheritPermissions,
    proxyEnabled: false,
    sessionRecordingEnabled: false,
    isDoubleLock: false,
    lastHeartBeatStatus: 'Pending',
    items: secret.items.map(({ field, value }) => ({
      itemId: itemId(secret.id, field.id),
      fieldId: field.id,
      fileAttachmentId: field.isFile && value !== '' ? itemId(secret.id, field.id) : null,
      fieldName: field.name,
      slug: field.slug,
      fieldDescription: '',
      filename: field.isFile && value !== '' ? attachmentName(field.slug) : null,
      // File content is only served by the field endpoint, as the vendor does.
      itemValue: field.isFile ? (value === '' ? '' : NOT_VALID_FOR_DISPLAY) : value,
      isFile: field.isFile,
      isNotes: field.isNotes,
      isPassword: field.isPassword,
      isList: false,
      listType: 'None',
    })),
  };
}

/** `SecretRestrictedArgs`: a comment (or ticket number) satisfies RequiresComment; noAutoCheckout as on GET. */
function restrictedArgs(body: unknown): { comment?: string; autoCheckout: boolean } {
  if (body === undefined) return { autoCheckout: true };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('The request body must be a JSON object.');
  const fields = Object.fromEntries(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
  const text = (name: string): string | undefined => {
    const value = fields[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw invalid(`${name} must be a string.`);
    return value;
  };
  const noAutoCheckout = fields['noautocheckout'];
  if (noAutoCheckout !== undefined && noAutoCheckout !== null && typeof noAutoCheckout !== 'boolean') throw invalid('noAutoCheckout must be a boolean.');
  const comment = text('comment') || text('ticketnumber');
  return { ...(comment ? { comment } : {}), autoCheckout: noAutoCheckout !== true };
}

function formFields(body: unknown): Record<string, string> {
  if (typeof body !== 'object' || body === null) return {};
  return Object.fromEntries(Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** ASP.NET binds query names case-insensitively; repeated names become lists. */
function lowerQuery(query: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (typeof query !== 'object' || query === null) return out;
  for (const [key, value] of Object.entries(query)) {
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
    out.set(key.toLowerCase(), [...(out.get(key.toLowerCase()) ?? []), ...values]);
  }
  return out;
}

function single(query: Map<string, string[]>, name: string): string | undefined {
  const values = query.get(name);
  return values && values.length > 0 ? values[values.length - 1] : undefined;
}

function bool(value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (/^true$/i.test(value)) return true;
  if (/^false$/i.test(value)) return false;
  throw invalid();
}

function integer(value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = /^-?\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid();
  return n;
}

function secretIdOf(params: unknown): number {
  const raw = typeof params === 'object' && params !== null ? (params as Record<string, unknown>)['id'] : undefined;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) throw invalid();
  return Number(raw);
}

function slugOf(params: unknown): string {
  const raw = typeof params === 'object' && params !== null ? (params as Record<string, unknown>)['slug'] : undefined;
  if (typeof raw !== 'string' || raw === '') throw invalid();
  return raw;
}
