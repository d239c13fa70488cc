import type { ConsoleSession, ConsoleSignInStart, ConsoleSignedOut, ProblemDetails } from '@openecm/contracts';
import { CSRF_HEADER } from './contract-values';

/** A problem answer of the gateway, kept whole so the page can say what it says. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<ProblemDetails>,
  ) {
    super(problem.detail ?? `the gateway answered ${status}`);
  }
}

let csrfToken: string | null = null;

async function answer<T>(res: Response): Promise<T> {
  if (res.ok) return (await res.json()) as T;
  let problem: Partial<ProblemDetails> = {};
  try {
    problem = (await res.json()) as Partial<ProblemDetails>;
  } catch {
    // not problem+json (a proxy's page): the status says enough
  }
  throw new ApiProblem(res.status, problem);
}

/** Every call goes to this origin with the session cookie; a call that changes something carries the CSRF token. */
export async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const method = (init.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers);
  if (!headers.has('Accept')) headers.set('Accept', 'application/json');
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers.set(CSRF_HEADER, csrfToken);
  return answer<T>(await fetch(path, { ...init, method, headers, credentials: 'same-origin', cache: 'no-store' }));
}

export async function loadSession(): Promise<ConsoleSession> {
  const session = await call<ConsoleSession>('/console/auth/session');
  csrfToken = session.csrfToken;
  return session;
}

export async function signIn(returnTo: string): Promise<void> {
  const start = await call<ConsoleSignInStart>(`/console/auth/login?${new URLSearchParams({ returnTo })}`);
  window.location.assign(start.authorizationUrl);
}

export async function signOut(): Promise<void> {
  const done = await call<ConsoleSignedOut>('/console/auth/logout', { method: 'POST' });
  csrfToken = null;
  window.location.assign(done.endSessionUrl ?? '/console');
}

export function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '');
  return new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString();
}

/** Downloads what the API answers with `Accept: text/csv` for this grid query, as the file `name`. */
export async function downloadCsv(path: string, name: string): Promise<void> {
  const res = await fetch(path, { headers: { Accept: 'text/csv' }, credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) await answer(res);
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
