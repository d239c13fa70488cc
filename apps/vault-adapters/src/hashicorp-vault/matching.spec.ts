import { accountName, matchesEndpoint, metadataList, userAllowed } from './matching';

describe('HashiCorp Vault endpoint and user matching', () => {
  it('matches names, IP addresses, wildcards and a bare host name against its DNS names', () => {
    expect(matchesEndpoint(['srv-db01'], 'SRV-DB01.corp.example.')).toBe(true);
    expect(matchesEndpoint(['srv-db01.corp.example'], 'srv-db01')).toBe(false);
    expect(matchesEndpoint(['*.lab.example'], 'web1.lab.example')).toBe(true);
    expect(matchesEndpoint(['*.lab.example'], 'lab.example')).toBe(false);
    expect(matchesEndpoint(['10.0.0.21'], '10.0.0.21')).toBe(true);
    expect(matchesEndpoint(['10'], '10.0.0.21')).toBe(false);
    expect(matchesEndpoint(['srv-db01'], 'srv-db011')).toBe(false);
  });

  it('maps users by their account name unless told to compare them exactly', () => {
    expect(accountName('CORP\\Alice')).toBe('alice');
    expect(accountName('alice@corp.example')).toBe('alice');
    expect(userAllowed(undefined, 'anyone', { match: 'account-name' })).toBe(true);
    expect(userAllowed(['CORP\\bob'], 'bob@corp.example', { match: 'account-name' })).toBe(true);
    expect(userAllowed(['CORP\\bob'], 'bob', { match: 'exact' })).toBe(false);
    expect(userAllowed(['bob'], 'alice', { match: 'account-name' })).toBe(false);
    expect(metadataList(' srv-web01, 10.0.0.21 ,')).toEqual(['srv-web01', '10.0.0.21']);
  });
});
