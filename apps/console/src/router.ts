import { useEffect, useState } from 'react';

/** The console's pages: client-side routes under /console, each also answered by the gateway (a reload works). */
export type Route =
  | { page: 'dashboard' }
  | { page: 'grid'; grid: 'sessions' | 'events'; query: URLSearchParams }
  | { page: 'session'; id: string }
  | { page: 'approvals' };

/** The approvals page (one of the gateway's CONSOLE_PAGES); `/console?page=approvals` is read as well. */
export const APPROVALS_PATH = '/console/approvals';

export function parseRoute(location: Location): Route {
  const path = location.pathname.replace(/\/+$/, '');
  const query = new URLSearchParams(location.search);
  const session = /^\/console\/sessions\/(\d{1,19})$/.exec(path);
  if (session) return { page: 'session', id: session[1] as string };
  if (path === '/console/sessions') return { page: 'grid', grid: 'sessions', query };
  if (path === '/console/events') return { page: 'grid', grid: 'events', query };
  if (path === '/console/approvals' || (path === '/console' && query.get('page') === 'approvals')) return { page: 'approvals' };
  return { page: 'dashboard' };
}

export function navigate(to: string): void {
  window.history.pushState(null, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location));
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return route;
}
