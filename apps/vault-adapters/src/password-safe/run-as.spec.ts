import { runAsProblem } from './password-safe.client';

describe('user names Password Safe can be signed in as (runas of the PS-Auth header)', () => {
  it('takes ASCII and Latin-1 names in every form', () => {
    for (const user of ['alice', 'CORP\\alice', 'alice@corp.example', 'José', 'Søren Ærø']) expect(runAsProblem(user)).toBeUndefined();
  });

  it('refuses what a header cannot carry: characters beyond Latin-1, control characters, the parameter separator', () => {
    expect(runAsProblem('山田')).toMatch(/Latin-1/);
    expect(runAsProblem('Ωmega')).toMatch(/Latin-1/);
    expect(runAsProblem('ali\u0000ce')).toMatch(/control characters/);
    expect(runAsProblem('a\u0085b')).toMatch(/control characters/);
    expect(runAsProblem('alice; pwd=[x]')).toMatch(/";"/);
  });
});
