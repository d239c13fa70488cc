import { z } from 'zod';
import type { GatewayRoute } from './gateway-api';
import { ApiPermission } from './model';

/**
 * The web console at the gateway: people sign in with OpenID Connect (authorization code with PKCE) and the
 * gateway keeps their session server side (Redis), the browser holding only an opaque id in an httpOnly,
 * Secure, SameSite=Strict cookie. The console's pages and scripts are served under `/console`.
 */

/** What a person may do in the console, from the identity provider's role claim (OIDC_ROLE_MAP). */
export const ConsoleRole = z.enum(['viewer', 'approver', 'admin']);
export type ConsoleRole = z.infer<typeof ConsoleRole>;

/**
 * The API permission each role grants a signed-in person: `viewer` reads the reports, `admin` manages vaults,
 * groups, policies and API accounts. `approver` decides approvals, which have no API permission yet. No role
 * grants `credentials`: a person never checks a secret out through the console.
 */
export const CONSOLE_ROLE_PERMISSIONS: Readonly<Record<ConsoleRole, readonly ApiPermission[]>> = {
  viewer: ['reporting'],
  approver: ['approvals'],
  admin: ['admin'],
};

export function consolePermissions(roles: readonly ConsoleRole[]): ApiPermission[] {
  return [...new Set(roles.flatMap((role) => CONSOLE_ROLE_PERMISSIONS[role]))];
}

/** The header a state-changing call from the console carries, equal to the session's CSRF token. */
export const CONSOLE_CSRF_HEADER = 'x-openecm-csrf';

/** The session cookie: `__Host-` when Secure (no Domain, Path=/), which a sibling host cannot overwrite. */
export const CONSOLE_SESSION_COOKIE = '__Host-openecm-console';
export const CONSOLE_SESSION_COOKIE_INSECURE = 'openecm-console';

/** Why a sign-in did not end in a session; the console shows it (`/console?signin=<reason>`). */
export const ConsoleSignInFailure = z.enum(['no-role', 'refused', 'expired', 'failed']);
export type ConsoleSignInFailure = z.infer<typeof ConsoleSignInFailure>;

export const ConsolePerson = z.strictObject({
  /** The identity provider's subject. */
  subject: z.string(),
  /** What the console shows: the name claim, else preferred_username, else the subject. */
  name: z.string(),
  email: z.string().nullable(),
  roles: z.array(ConsoleRole),
  permissions: z.array(ApiPermission),
});
export type ConsolePerson = z.infer<typeof ConsolePerson>;

export const ConsoleSession = z.strictObject({
  /** False when the gateway has no OpenID Connect settings: nobody can sign in. */
  configured: z.boolean(),
  signedIn: z.boolean(),
  person: ConsolePerson.nullable(),
  /** Send it in the CONSOLE_CSRF_HEADER header with every state-changing call; null when not signed in. */
  csrfToken: z.string().nullable(),
  expiresAt: z.string().datetime().nullable(),
});
export type ConsoleSession = z.infer<typeof ConsoleSession>;

export const ConsoleSignedOut = z.strictObject({
  signedOut: z.literal(true),
  /** The identity provider's end-session address to go to next, when it has one. */
  endSessionUrl: z.string().url().nullable(),
});
export type ConsoleSignedOut = z.infer<typeof ConsoleSignedOut>;

const RETURN_PATH = /^\/console(\/[A-Za-z0-9._~\-/]*)?(\?[A-Za-z0-9._~\-=&%:+]*)?$/;
/** Where the console goes after sign-in: a path of its own, never another origin. */
const ReturnTo = z
  .string()
  .max(2048)
  .refine((v) => RETURN_PATH.test(v) && !v.includes('//') && !v.includes('/..'), 'a path under /console');

export const ConsoleLoginQuery = z.strictObject({ returnTo: ReturnTo.optional() });
export const ConsoleSignInStart = z.strictObject({ authorizationUrl: z.string().url() });
export type ConsoleSignInStart = z.infer<typeof ConsoleSignInStart>;

/** What the identity provider sends back to the callback (RFC 6749 4.1.2, RFC 9207 `iss`). */
export const ConsoleCallbackQuery = z.strictObject({
  code: z.string().min(1).max(4096).optional(),
  state: z.string().min(1).max(512).optional(),
  iss: z.string().max(2048).optional(),
  session_state: z.string().max(2048).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(2048).optional(),
  error_uri: z.string().max(2048).optional(),
});

/** The console's own pages (client-side routes): each answers the same page, which draws the one asked for. */
export const CONSOLE_PAGES = ['sessions', 'events', 'approvals'] as const;
export const ConsolePagePath = z.strictObject({ page: z.enum(CONSOLE_PAGES) });
export const ConsoleSessionPagePath = z.strictObject({ sessionId: z.string().regex(/^\d{1,19}$/, 'a decimal id') });
export const ConsoleAssetPath = z.strictObject({
  file: z.string().max(256).regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*\.(js|css|svg|png|woff2?|map)$/, 'a file of the built console'),
});

const PAGE_ANSWER = {
  description:
    'The console page (the same for every console path; it draws the one asked for), or, without OpenID Connect settings, a page saying sign-in is not configured.',
  schema: z.string(),
  contentTypes: ['text/html'],
} as const;

export const CONSOLE_ROUTES = {
  getConsole: {
    method: 'get',
    path: '/console',
    tag: 'Console',
    summary: 'The web console',
    description: 'Served with a strict Content-Security-Policy: scripts and styles from this origin only, calls to this origin only.',
    access: 'anyone',
    answers: { 200: PAGE_ANSWER },
    errors: [],
  },
  getConsolePage: {
    method: 'get',
    path: '/console/{page}',
    tag: 'Console',
    summary: 'A page of the web console',
    access: 'anyone',
    params: ConsolePagePath,
    answers: { 200: PAGE_ANSWER },
    errors: [],
  },
  getConsoleSessionPage: {
    method: 'get',
    path: '/console/sessions/{sessionId}',
    tag: 'Console',
    summary: "A session's page of the web console",
    access: 'anyone',
    params: ConsoleSessionPagePath,
    answers: { 200: PAGE_ANSWER },
    errors: [],
  },
  getConsoleAsset: {
    method: 'get',
    path: '/console/assets/{file}',
    tag: 'Console',
    summary: "The console's scripts, styles and images",
    description: 'Names carry a content hash, so they are cached for a year.',
    access: 'anyone',
    params: ConsoleAssetPath,
    answers: { 200: { description: 'The file.', schema: z.string(), contentTypes: ['text/javascript', 'text/css', 'image/svg+xml', 'application/octet-stream'] } },
    errors: ['NOT_FOUND'],
  },
  consoleSignIn: {
    method: 'get',
    path: '/console/auth/login',
    tag: 'Console',
    summary: 'Start signing in to the console',
    description:
      "Answers the identity provider's authorization address for the console to go to (authorization code with PKCE, S256); the " +
      'state, nonce and code verifier stay at the gateway, and a short-lived cookie binds the sign-in to this browser. ' +
      'Sign-ins count against the source address\'s budget of the token endpoint (429 with `Retry-After` beyond it).',
    access: 'anyone',
    query: ConsoleLoginQuery,
    answers: { 200: { description: 'Where to send the browser.', schema: ConsoleSignInStart, noStore: true } },
    errors: ['NOT_FOUND', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'],
  },
  consoleSignInCallback: {
    method: 'get',
    path: '/console/auth/callback',
    tag: 'Console',
    summary: "The identity provider's answer",
    description:
      'Exchanges the code (with the PKCE verifier), checks the ID token, maps the role claim to roles and starts the session: an ' +
      'httpOnly, Secure, SameSite=Strict cookie holding an opaque id, the session itself kept in Redis so any gateway instance ' +
      'serves it. A person the role map gives no role gets no session. The page answered moves on to the console, with ' +
      '`?signin=<reason>` when the sign-in failed (the move is a same-site navigation, so the Strict cookie goes with it).',
    access: 'anyone',
    query: ConsoleCallbackQuery,
    answers: { 200: { description: 'A page moving on to the console.', schema: z.string(), contentTypes: ['text/html'], noStore: true } },
    errors: ['NOT_FOUND'],
  },
  getConsoleSession: {
    method: 'get',
    path: '/console/auth/session',
    tag: 'Console',
    summary: 'Who is signed in',
    description: 'The person of the session cookie, their roles and the CSRF token; `signedIn: false` without a live session.',
    access: 'anyone',
    answers: { 200: { description: 'The session.', schema: ConsoleSession, noStore: true } },
    errors: ['SERVICE_UNAVAILABLE'],
  },
  consoleSignOut: {
    method: 'post',
    path: '/console/auth/logout',
    tag: 'Console',
    summary: 'Sign out of the console',
    description:
      `Ends the session at the gateway (every instance) and answers the identity provider's end-session address, if it has one. ` +
      `Needs the session's CSRF token in \`${CONSOLE_CSRF_HEADER}\`.`,
    access: 'anyone',
    answers: { 200: { description: 'Signed out.', schema: ConsoleSignedOut, noStore: true } },
    errors: ['UNAUTHENTICATED', 'CSRF_TOKEN_INVALID', 'SERVICE_UNAVAILABLE'],
  },
} satisfies Record<string, GatewayRoute>;
