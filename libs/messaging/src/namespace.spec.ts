import { ConfigError } from '@openecm/config';
import { eventSubjectOf } from './jetstream';
import { currentNamespace, qualifiedSubject } from './namespace';

describe('the deployment namespace', () => {
  const before = process.env['OPENECM_NAMESPACE'];
  afterEach(() => {
    if (before === undefined) delete process.env['OPENECM_NAMESPACE'];
    else process.env['OPENECM_NAMESPACE'] = before;
  });

  it('qualifies subjects with the namespace the variable holds now, also after it changes', () => {
    process.env['OPENECM_NAMESPACE'] = 'tenant-a';
    expect(qualifiedSubject('policy.credentials.list.v1')).toBe('tenant-a.policy.credentials.list.v1');
    process.env['OPENECM_NAMESPACE'] = 'tenant-b';
    expect(qualifiedSubject('policy.credentials.list.v1')).toBe('tenant-b.policy.credentials.list.v1');
    delete process.env['OPENECM_NAMESPACE'];
    expect(currentNamespace()).toBeUndefined();
    expect(qualifiedSubject('policy.credentials.list.v1')).toBe('policy.credentials.list.v1');
  });

  it('tells the event of a qualified subject in the namespace of the moment, and no other', () => {
    process.env['OPENECM_NAMESPACE'] = 'tenant-a';
    expect(eventSubjectOf('tenant-a.policy.lease.opened.v1')).toBe('policy.lease.opened.v1');
    expect(eventSubjectOf('tenant-b.policy.lease.opened.v1')).toBeUndefined();
    expect(eventSubjectOf('tenant-a.policy.credentials.list.v1')).toBeUndefined();
    process.env['OPENECM_NAMESPACE'] = 'tenant-b';
    expect(eventSubjectOf('tenant-b.policy.lease.opened.v1')).toBe('policy.lease.opened.v1');
    expect(eventSubjectOf('tenant-a.policy.lease.opened.v1')).toBeUndefined();
  });

  it('refuses an invalid namespace every time it is read, naming the variable', () => {
    process.env['OPENECM_NAMESPACE'] = 'Not Valid';
    for (let i = 0; i < 2; i++) {
      expect(() => currentNamespace()).toThrow(ConfigError);
      expect(() => currentNamespace()).toThrow(/OPENECM_NAMESPACE/);
    }
  });
});
