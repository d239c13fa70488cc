import { UserName, userKey } from './model';

const KELVIN = '\u212A';

describe('user names', () => {
  it('takes the three forms the appliance sends, trimmed', () => {
    for (const name of ['alice', 'CORP\\alice', 'alice@corp.example', 'José', 'Ærøskøbing\\Søren', '山田']) {
      expect(UserName.parse(name)).toBe(name);
    }
    expect(UserName.parse('  alice ')).toBe('alice');
  });

  it('refuses a name that Unicode normalisation (NFKC) changes: the Kelvin sign for K, decomposed accents, full-width letters', () => {
    for (const name of [`${KELVIN}ate`, 'Jose\u0301', '\uFF41lice', 'o\uFB03ce', '\u2126mega']) {
      const result = UserName.safeParse(name);
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((i) => i.message)).toEqual([expect.stringMatching(/normal form NFKC/)]);
    }
  });

  it('refuses control characters and lone surrogates', () => {
    for (const name of ['ali\u0000ce', 'alice\u0007', 'a\u0085b']) expect(UserName.safeParse(name).success).toBe(false);
    expect(UserName.safeParse('ali\uD800ce').error?.issues.map((i) => i.message)).toContain('must be well-formed Unicode (no lone surrogate)');
  });
});

describe('userKey', () => {
  it('compares case-insensitively, as directories do', () => {
    expect(userKey('CORP\\Alice')).toBe(userKey('corp\\alice'));
    expect(userKey(' Kate ')).toBe('kate');
    expect(userKey('ÉLODIE')).toBe(userKey('élodie'));
  });

  it('never merges two names a vault tells apart', () => {
    // lower-casing would turn each into the plain ASCII name
    expect(userKey(`${KELVIN}ate`)).not.toBe(userKey('Kate'));
    expect(userKey('\u212Bngstrom')).not.toBe(userKey('Ångstrom'));
    // İ lower-cases to i plus a combining dot above: kept as it is, apart from the name spelt so
    expect(userKey('\u0130stanbul')).not.toBe(userKey('i\u0307stanbul'));
    expect(userKey('CORP\\alice')).not.toBe(userKey('alice@corp'));
  });
});
