import { describeCandidate, parseUserName, userCandidates, type UserMappingSettings } from './user-mapping';

const none: UserMappingSettings = { fallBackToLocalAccount: false, includeDefaultOrganization: false };
const names = (user: string, settings: UserMappingSettings): string[] => userCandidates(user, settings).map(describeCandidate);

describe('parseUserName', () => {
  it.each([
    ['alice', { username: 'alice', domain: null }],
    ['  alice  ', { username: 'alice', domain: null }],
    ['CORP\\alice', { username: 'alice', domain: 'CORP' }],
    [' CORP \\ alice ', { username: 'alice', domain: 'CORP' }],
    ['alice@corp.example', { username: 'alice', domain: 'corp.example' }],
    ['first.last@sub.corp.example', { username: 'first.last', domain: 'sub.corp.example' }],
    // the last @ separates the domain, so a user part holding one survives
    ['odd@name@corp.example', { username: 'odd@name', domain: 'corp.example' }],
    // the first backslash separates the domain, so a UPN-looking user part survives
    ['CORP\\alice@x', { username: 'alice@x', domain: 'CORP' }],
    ['.\\alice', { username: 'alice', domain: '' }],
    ['\\alice', { username: 'alice', domain: '' }],
    ['alice@', { username: 'alice', domain: null }],
  ])('%j', (raw, expected) => {
    expect(parseUserName(raw)).toEqual(expected);
  });

  it.each(['', '   ', 'CORP\\', 'CORP\\  ', '@corp.example', 'A\\B\\c'])('%j is not a usable name', (raw) => {
    expect(parseUserName(raw)).toBeUndefined();
  });
});

describe('userCandidates', () => {
  it('a bare user with no settings: the local user only', () => {
    expect(userCandidates('alice', none)).toEqual([{ username: 'alice', domain: '', organization: '', rule: 'as-given' }]);
  });

  it('a bare user with a default domain: the default domain only, unless fall-back is on', () => {
    expect(userCandidates('alice', { ...none, defaultDomainForLocalUsers: 'CORP' })).toEqual([
      { username: 'alice', domain: 'CORP', organization: '', rule: 'default-domain' },
    ]);
    expect(userCandidates('alice', { ...none, defaultDomainForLocalUsers: 'CORP', fallBackToLocalAccount: true })).toEqual([
      { username: 'alice', domain: 'CORP', organization: '', rule: 'default-domain' },
      { username: 'alice', domain: '', organization: '', rule: 'local-fallback' },
    ]);
  });

  it('a blank default domain counts as unset; surrounding spaces are trimmed', () => {
    expect(names('alice', { ...none, defaultDomainForLocalUsers: '' })).toEqual(['alice']);
    expect(names('alice', { ...none, defaultDomainForLocalUsers: '   ' })).toEqual(['alice']);
    expect(names('alice', { ...none, defaultDomainForLocalUsers: '  CORP ' })).toEqual(['CORP\\alice']);
  });

  it('DOMAIN\\user keeps its domain, whatever the default domain; fall-back adds the bare local name', () => {
    expect(names('LAB\\alice', none)).toEqual(['LAB\\alice']);
    expect(names('LAB\\alice', { ...none, defaultDomainForLocalUsers: 'CORP' })).toEqual(['LAB\\alice']);
    expect(names('LAB\\alice', { ...none, fallBackToLocalAccount: true })).toEqual(['LAB\\alice', 'alice']);
    expect(userCandidates('LAB\\alice', { ...none, fallBackToLocalAccount: true }).map((c) => c.rule)).toEqual(['as-given', 'local-fallback']);
  });

  it('user@domain sends the domain part in the domain argument (FQDN as typed), never in the user name', () => {
    expect(userCandidates('alice@corp.example', none)).toEqual([{ username: 'alice', domain: 'corp.example', organization: '', rule: 'as-given' }]);
    expect(names('alice@corp.example', { ...none, defaultDomainForLocalUsers: 'LAB', fallBackToLocalAccount: true })).toEqual([
      'corp.example\\alice',
      'alice',
    ]);
  });

  it('.\\user and \\user are the local user: no default domain, nothing to fall back from', () => {
    const all: UserMappingSettings = { defaultDomainForLocalUsers: 'CORP', fallBackToLocalAccount: true, includeDefaultOrganization: false };
    expect(names('.\\dave', all)).toEqual(['dave']);
    expect(names('\\dave', all)).toEqual(['dave']);
  });

  it('sends the organization only when includeDefaultOrganization is set and one is configured', () => {
    const orgs = (settings: UserMappingSettings) => userCandidates('CORP\\alice', { ...settings, fallBackToLocalAccount: true }).map((c) => c.organization);
    expect(orgs({ ...none, apiOrganization: 'ACME' })).toEqual(['', '']);
    expect(orgs({ ...none, includeDefaultOrganization: true })).toEqual(['', '']);
    expect(orgs({ ...none, includeDefaultOrganization: true, apiOrganization: '  ' })).toEqual(['', '']);
    expect(orgs({ ...none, includeDefaultOrganization: true, apiOrganization: ' ACME ' })).toEqual(['ACME', 'ACME']);
  });

  it('an unusable name yields no candidates', () => {
    expect(userCandidates('CORP\\', { ...none, fallBackToLocalAccount: true, defaultDomainForLocalUsers: 'CORP' })).toEqual([]);
    expect(userCandidates('', none)).toEqual([]);
  });

  describe('every form under every combination of settings', () => {
    const forms = ['erin', 'CORP\\erin', 'erin@corp.example', '.\\erin'] as const;
    const defaults = [undefined, 'CORP', 'LAB'] as const;
    const cases = forms.flatMap((form) =>
      defaults.flatMap((defaultDomain) =>
        [false, true].flatMap((fallBack) =>
          [false, true].map((includeOrg) => ({ form, defaultDomain, fallBack, includeOrg })),
        ),
      ),
    );

    it.each(cases)('$form default=$defaultDomain fallBack=$fallBack org=$includeOrg', ({ form, defaultDomain, fallBack, includeOrg }) => {
      const settings: UserMappingSettings = {
        ...(defaultDomain ? { defaultDomainForLocalUsers: defaultDomain } : {}),
        fallBackToLocalAccount: fallBack,
        includeDefaultOrganization: includeOrg,
        apiOrganization: 'ACME',
      };
      const got = userCandidates(form, settings);
      const explicit = form === 'CORP\\erin' ? 'CORP' : form === 'erin@corp.example' ? 'corp.example' : undefined;
      const local = form === '.\\erin';
      const first = local ? '' : (explicit ?? defaultDomain ?? '');
      const expected = [first, ...(first !== '' && fallBack ? [''] : [])];
      expect(got.map((c) => c.domain)).toEqual(expected);
      // the user part never carries a domain, and every candidate is the same person's name
      expect(new Set(got.map((c) => c.username))).toEqual(new Set(['erin']));
      expect(got.every((c) => c.organization === (includeOrg ? 'ACME' : ''))).toBe(true);
      expect(got.map((c) => c.rule)).toEqual([
        explicit || local || !defaultDomain ? 'as-given' : 'default-domain',
        ...(expected.length > 1 ? ['local-fallback'] : []),
      ]);
    });
  });
});
