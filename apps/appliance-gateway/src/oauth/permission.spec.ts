import { decideAccess, isApiPermission, type ApiPrincipal } from './permission';

const principal = (...permissions: ApiPrincipal['permissions']): ApiPrincipal => ({ accountId: 'a', clientId: 'pra', permissions });

describe('decideAccess', () => {
  it('answers 401 without a live token, whatever the route needs', () => {
    expect(decideAccess(undefined, 'credentials')).toBe('unauthenticated');
    expect(decideAccess(undefined, undefined)).toBe('unauthenticated');
  });

  it('allows an account holding the route permission', () => {
    expect(decideAccess(principal('credentials'), 'credentials')).toBe('allow');
    expect(decideAccess(principal('reporting', 'admin'), 'admin')).toBe('allow');
  });

  it('forbids an account lacking it; admin implies nothing else', () => {
    expect(decideAccess(principal('reporting'), 'credentials')).toBe('forbidden');
    expect(decideAccess(principal('admin'), 'credentials')).toBe('forbidden');
    expect(decideAccess(principal('credentials'), 'admin')).toBe('forbidden');
  });

  it('fails closed on a route that declares no permission', () => {
    expect(decideAccess(principal('credentials', 'reporting', 'admin'), undefined)).toBe('forbidden');
  });

  it('treats stored permission names the contract does not know as none', () => {
    expect(['credentials', 'root', 'admin'].filter(isApiPermission)).toEqual(['credentials', 'admin']);
  });
});
