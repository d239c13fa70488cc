import type { SecretValue } from '@openecm/crypto';
import { z } from 'zod';
import { SecretServerError, sanitizeVaultText, type SecretServerErrorKind } from './secret-server.errors';
import { SecretServerHttp, type HttpAnswer, type SecretServerHttpOptions } from './secret-server.http';

export interface SecretServerRestClientOptions extends SecretServerHttpOptions {
  /** The Secret Server base URL, e.g. `https://ss.example/SecretServer` (no `/api/v1`). */
  baseUrl: string;
}

const tokenSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().nonnegative().optional(),
});

const extendedFieldSchema = z.looseObject({ name: z.string(), value: z.string().nullish() });

const summarySchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  secretTemplateId: z.number().int().nullish(),
  secretTemplateName: z.string().nullish(),
  folderId: z.number().int().nullish(),
  active: z.boolean().nullish(),
  checkedOut: z.boolean().nullish(),
  checkOutEnabled: z.boolean().nullish(),
  checkOutUserId: z.number().int().nullish(),
  isRestricted: z.boolean().nullish(),
  requiresComment: z.boolean().nullish(),
  extendedFields: z.array(extendedFieldSchema).nullish(),
});

const pageSchema = z.looseObject({
  records: z.array(summarySchema),
  hasNext: z.boolean().nullish(),
  total: z.number().int().nullish(),
});

const itemSchema = z.looseObject({
  itemId: z.number().int().nullish(),
  fieldId: z.number().int().nullish(),
  fieldName: z.string().nullish(),
  slug: z.string().nullish(),
  itemValue: z.string().nullish(),
  isPassword: z.boolean().nullish(),
  isFile: z.boolean().nullish(),
  isNotes: z.boolean().nullish(),
});

const secretSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  secretTemplateId: z.number().int().nullish(),
  secretTemplateName: z.string().nullish(),
  active: z.boolean().nullish(),
  checkedOut: z.boolean().nullish(),
  checkOutEnabled: z.boolean().nullish(),
  requiresComment: z.boolean().nullish(),
  items: z.array(itemSchema),
});

export type RestSecretSummary = z.infer<typeof summarySchema>;
export type RestSecret = z.infer<typeof secretSchema>;

export interface RestSearch {
  /** Field name (as the plugin's Machine Field / Domain Field settings give it). */
  searchField: string;
  searchText: string;
  isExactMatch?: boolean;
  /** Non-secret field values to carry in each summary, so the list needs no read of the secret. */
  extendedFields?: string[];
  includeRestricted?: boolean;
  /** At most this many: the search stops there rather than paging on (or failing past its page bound). */
  limit?: number;
}

const PAGE_SIZE = 200;
const MAX_PAGES = 50;

/**
 * Secret Server's REST API as the API account itself (no impersonation), only what the adapter needs.
 * Every failure becomes a SecretServerError whose message carries the vault's sanitised words and never a
 * value this client sent.
 */
export class SecretServerRestClient {
  private readonly http: SecretServerHttp;
  private readonly base: string;

  constructor(options: SecretServerRestClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.http = new SecretServerHttp(options);
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /**
   * Password grant. The domain goes in its own form field: `DOMAIN\user` in `username` is looked up
   * literally and fails.
   */
  async token(input: { username: string; password: SecretValue; domain?: string | undefined }): Promise<{ accessToken: string; expiresIn: number | undefined }> {
    const op = 'POST oauth2/token';
    // the password is revealed here only, into the form it signs in with
    const password = input.password.reveal();
    const form = new URLSearchParams({ grant_type: 'password', username: input.username, password });
    if (input.domain) form.set('domain', input.domain);
    const answer = await this.http.send({
      op,
      method: 'POST',
      url: `${this.base}/oauth2/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    const secrets = [password];
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
      throw failure('authentication', op, answer, secrets);
    }
    const parsed = tokenSchema.safeParse(json(op, answer));
    if (!parsed.success) throw new SecretServerError('unexpected', `Secret Server answered ${op} without an access token`, { status: answer.status });
    if (/[\r\n\0]/.test(parsed.data.access_token)) throw new SecretServerError('unexpected', `Secret Server answered ${op} with a malformed token`);
    return { accessToken: parsed.data.access_token, expiresIn: parsed.data.expires_in };
  }

  /** Pages through every match. */
  async searchSecrets(token: string, search: RestSearch): Promise<RestSecretSummary[]> {
    const op = 'GET api/v1/secrets';
    const all: RestSecretSummary[] = [];
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const query = new URLSearchParams();
      query.set('filter.searchField', search.searchField);
      query.set('filter.searchText', search.searchText);
      query.set('filter.isExactMatch', String(search.isExactMatch ?? true));
      query.set('filter.includeRestricted', String(search.includeRestricted ?? true));
      for (const field of search.extendedFields ?? []) query.append('filter.extendedFields', field);
      query.set('take', String(search.limit === undefined ? PAGE_SIZE : Math.min(PAGE_SIZE, search.limit - all.length)));
      query.set('skip', String(page * PAGE_SIZE));
      const answer = await this.api(op, 'GET', `/api/v1/secrets?${query.toString()}`, token, 'search');
      const parsed = pageSchema.safeParse(json(op, answer));
      if (!parsed.success) throw new SecretServerError('search', `Secret Server answered ${op} with an unexpected shape`, { status: answer.status });
      all.push(...parsed.data.records);
      if (search.limit !== undefined && all.length >= search.limit) return all.slice(0, search.limit);
      const more = parsed.data.hasNext ?? parsed.data.records.length === PAGE_SIZE;
      if (!more || parsed.data.records.length === 0) return all;
    }
    throw new SecretServerError('search', `${op} matched more than ${MAX_PAGES * PAGE_SIZE} secrets; narrow the search`);
  }

  /**
   * Reads a secret with its values. Without `noAutoCheckout` a secret with CheckOutEnabled is checked out
   * to the API account by the read; with it, such a secret fails (`checkout-required`) and nothing changes.
   * A secret that requires a comment needs `comment`, which goes through the `restricted` endpoint.
   */
  async getSecret(token: string, secretId: number, options: { noAutoCheckout?: boolean; comment?: string } = {}): Promise<RestSecret> {
    const id = positiveId(secretId);
    const answer =
      options.comment === undefined
        ? await this.api('GET api/v1/secrets/{id}', 'GET', `/api/v1/secrets/${id}${options.noAutoCheckout ? '?noAutoCheckout=true' : ''}`, token, 'read')
        : await this.api('POST api/v1/secrets/{id}/restricted', 'POST', `/api/v1/secrets/${id}/restricted`, token, 'read', {
            comment: options.comment,
            ...(options.noAutoCheckout ? { noAutoCheckout: true } : {}),
          });
    const parsed = secretSchema.safeParse(json('GET api/v1/secrets/{id}', answer));
    if (!parsed.success) throw new SecretServerError('unexpected', 'Secret Server answered a secret of an unexpected shape', { status: answer.status });
    return parsed.data;
  }

  /**
   * Whether the secret is checked out and to which user id, from its summary: no values are read and reading
   * it checks nothing out (the plain GET of a check-out secret would).
   */
  async getCheckOutStatus(token: string, secretId: number): Promise<{ checkedOut: boolean; userId: number | undefined }> {
    const op = 'GET api/v1/secrets/{id}/summary';
    const answer = await this.api(op, 'GET', `/api/v1/secrets/${positiveId(secretId)}/summary`, token, 'read');
    const parsed = summarySchema.safeParse(json(op, answer));
    if (!parsed.success) throw new SecretServerError('unexpected', 'Secret Server answered a secret summary of an unexpected shape', { status: answer.status });
    const userId = parsed.data.checkOutUserId ?? undefined;
    return { checkedOut: parsed.data.checkedOut ?? false, userId: userId === undefined || userId < 0 ? undefined : userId };
  }

  /** The signed-in account's user id. */
  async currentUserId(token: string): Promise<number> {
    const op = 'GET api/v1/users/current';
    const answer = await this.api(op, 'GET', '/api/v1/users/current', token, 'read');
    const parsed = z.looseObject({ id: z.number().int() }).safeParse(json(op, answer));
    if (!parsed.success) throw new SecretServerError('unexpected', 'Secret Server answered the current user in an unexpected shape', { status: answer.status });
    return parsed.data.id;
  }

  /** One field's value; file fields (a private key) are only served this way. */
  async getField(token: string, secretId: number, slug: string, options: { comment?: string } = {}): Promise<string> {
    const id = positiveId(secretId);
    const safeSlug = encodeURIComponent(slug);
    const answer =
      options.comment === undefined
        ? await this.api('GET api/v1/secrets/{id}/fields/{slug}', 'GET', `/api/v1/secrets/${id}/fields/${safeSlug}`, token, 'read')
        : await this.api('POST api/v1/secrets/{id}/restricted/fields/{slug}', 'POST', `/api/v1/secrets/${id}/restricted/fields/${safeSlug}`, token, 'read', {
            comment: options.comment,
          });
    if (/json/i.test(answer.contentType)) {
      const value = json('GET api/v1/secrets/{id}/fields/{slug}', answer);
      if (typeof value !== 'string') throw new SecretServerError('unexpected', 'Secret Server answered a field that is not a string', { status: answer.status });
      return value;
    }
    return answer.text;
  }

  /** Checking in a secret that is not checked out is not an error. */
  async checkIn(token: string, secretId: number): Promise<void> {
    try {
      await this.api('POST api/v1/secrets/{id}/check-in', 'POST', `/api/v1/secrets/${positiveId(secretId)}/check-in`, token, 'checkin', {});
    } catch (error) {
      if (error instanceof SecretServerError && /not\s+(currently\s+)?checked\s*out/i.test(error.vaultMessage ?? '')) return;
      throw error;
    }
  }

  private async api(op: string, method: 'GET' | 'POST', path: string, token: string, phase: 'search' | 'read' | 'checkin', body?: object): Promise<HttpAnswer> {
    const answer = await this.http.send({
      op,
      method,
      url: `${this.base}${path}`,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw failure(kindOf(answer, phase), op, answer, [token]);
  }
}

function kindOf(answer: HttpAnswer, phase: 'search' | 'read' | 'checkin'): SecretServerErrorKind {
  const body = parse(answer.text);
  const errorCode = typeof body?.['errorCode'] === 'string' ? body['errorCode'] : '';
  if (answer.status === 401) return 'token-expired';
  if (/CommentRequired|TicketNumber/i.test(errorCode)) return 'comment-required';
  if (/ApprovalRequired|DoubleLock/i.test(errorCode)) return 'approval-required';
  if (/CheckoutRequired/i.test(errorCode)) return 'checkout-required';
  if (/CheckedOut/i.test(errorCode)) return 'checked-out';
  if (answer.status === 403) return 'access-denied';
  if (answer.status === 404) return 'not-found';
  if (phase === 'search') return 'search';
  const message = typeof body?.['message'] === 'string' ? body['message'] : '';
  if (/\bchecked out by\b/i.test(message)) return 'checked-out';
  return 'unexpected';
}

function failure(kind: SecretServerErrorKind, op: string, answer: HttpAnswer, secrets: string[]): SecretServerError {
  const body = parse(answer.text);
  const said = ['message', 'error_description', 'error'].map((k) => body?.[k]).find((v): v is string => typeof v === 'string' && v.trim() !== '');
  const vaultMessage = said === undefined ? undefined : sanitizeVaultText(said, secrets);
  const head = `Secret Server answered ${answer.status} to ${op}`;
  // The body's words stay in vaultMessage, for matching and the log; the message never echoes an HTTP error body,
  // so a URL pointed at some other internal service cannot be used to read what it answers.
  return new SecretServerError(kind, head, {
    status: answer.status,
    attempts: answer.attempts,
    ...(vaultMessage === undefined ? {} : { vaultMessage }),
  });
}

/** Some failures come back as 200 with an HTML page (a login or error page); those are not answers. */
function json(op: string, answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    const html = /html/i.test(answer.contentType) || /^\s*</.test(answer.text);
    throw new SecretServerError(
      'unexpected',
      html ? `Secret Server answered ${op} with an HTML page, not JSON; check the URL` : `Secret Server answered ${op} with unreadable JSON`,
      { status: answer.status, attempts: answer.attempts },
    );
  }
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function positiveId(id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) throw new SecretServerError('unexpected', 'a secret id must be a positive 32-bit integer');
  return id;
}
