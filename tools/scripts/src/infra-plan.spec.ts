import { configuredUrl, installHint, planInfrastructure, printableUrl, SERVER_KINDS, type Probe, type ServerKind } from './infra-plan';

const up: Probe = { answers: true };
const down: Probe = { answers: false, reason: 'ECONNREFUSED' };

function prober(answers: Partial<Record<ServerKind, Probe>>) {
  return jest.fn(async (kind: ServerKind, _url: string) => answers[kind] ?? up);
}

describe('which servers the demo starts', () => {
  it('uses every server that answers, on the default local ports when nothing is set', async () => {
    const probe = prober({});
    expect(await planInfrastructure({}, false, probe)).toEqual([
      { kind: 'nats', use: 'configured', url: 'nats://127.0.0.1:4222' },
      { kind: 'redis', use: 'configured', url: 'redis://127.0.0.1:6379' },
      { kind: 'postgres', use: 'configured', url: 'postgres://postgres@127.0.0.1:5432/openecm_demo' },
    ]);
    expect(probe.mock.calls).toEqual([
      ['nats', 'nats://127.0.0.1:4222'],
      ['redis', 'redis://127.0.0.1:6379'],
      ['postgres', 'postgres://postgres@127.0.0.1:5432/openecm_demo'],
    ]);
  });

  it('checks the URLs the user set and uses them when they answer', async () => {
    const env = { NATS_URL: 'nats://nats.lan:4222', REDIS_URL: 'redis://cache.lan:6380', DATABASE_URL: 'postgres://app:pw@db.lan/ecm' };
    const probe = prober({});
    const plan = await planInfrastructure(env, false, probe);
    expect(plan.map((d) => d.use)).toEqual(['configured', 'configured', 'configured']);
    expect(probe.mock.calls.map(([, url]) => url)).toEqual([env.NATS_URL, env.REDIS_URL, env.DATABASE_URL]);
  });

  it('starts a private server only for a default one that does not answer', async () => {
    const plan = await planInfrastructure({}, false, prober({ redis: down }));
    expect(plan.map((d) => [d.kind, d.use])).toEqual([
      ['nats', 'configured'],
      ['redis', 'private'],
      ['postgres', 'configured'],
    ]);
    expect(plan[1]).toEqual({ kind: 'redis', use: 'private', why: 'none answers on redis://127.0.0.1:6379 (ECONNREFUSED)' });
  });

  it('calls an explicit URL that does not answer an error, naming the variable and never the password', async () => {
    const env = { DATABASE_URL: 'postgres://app:s3cret@db.lan:5432/ecm' };
    const plan = await planInfrastructure(env, false, prober({ postgres: down, nats: down }));
    expect(plan.map((d) => d.use)).toEqual(['private', 'configured', 'error']);
    const error = plan[2] as { message: string };
    expect(error.message).toMatch(/^PostgreSQL: DATABASE_URL=postgres:\/\/app:\*\*\*@db\.lan:5432\/ecm does not answer \(ECONNREFUSED\)/);
    expect(error.message).toMatch(/unset DATABASE_URL \(or pass --private\)/);
    expect(error.message).not.toContain('s3cret');
  });

  it('with --private starts all three without asking any server, whatever is set', async () => {
    const probe = prober({});
    const plan = await planInfrastructure({ NATS_URL: 'nats://nats.lan:4222' }, true, probe);
    expect(plan).toEqual(SERVER_KINDS.map((kind) => ({ kind, use: 'private', why: '--private' })));
    expect(probe).not.toHaveBeenCalled();
  });

  it('treats an empty variable as not set', async () => {
    const plan = await planInfrastructure({ NATS_URL: '' }, false, prober({ nats: down }));
    expect(plan[0]).toEqual({ kind: 'nats', use: 'private', why: 'none answers on nats://127.0.0.1:4222 (ECONNREFUSED)' });
    expect(configuredUrl('redis', { REDIS_URL: 'redis://cache.lan' })).toEqual({ url: 'redis://cache.lan', explicit: true });
  });
});

describe('install hints', () => {
  it.each([
    ['nats', ['nats-server'], 'apt-get install nats-server'],
    ['redis', ['redis-server'], 'apt-get install redis-server'],
    ['postgres', ['initdb', 'pg_ctl'], 'apt-get install postgresql'],
  ] as const)('%s: one line naming the missing program and how to install it', (kind, missing, install) => {
    const hint = installHint(kind, [...missing]);
    expect(hint).not.toContain('\n');
    expect(hint).toContain(`${missing.join(' and ')} not found`);
    expect(hint).toContain(install);
  });

  it('says where PostgreSQL was looked for', () => {
    expect(installHint('postgres', ['pg_ctl'])).toContain('/usr/lib/postgresql/*/bin');
  });
});

describe('printable URLs', () => {
  it('hides a password and keeps the rest', () => {
    expect(printableUrl('redis://:hunter2@cache.lan:6379/0')).toBe('redis://:***@cache.lan:6379/0');
    expect(printableUrl('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
    expect(printableUrl('not a url with secret')).toBe('(not a URL)');
  });
});
