import { spawn } from 'node:child_process';
import { NATS_URL, PG_ADMIN_URL, REDIS_URL, freePort, waitFor } from '@openecm/testing';
import { probe } from '../src/probes';

describe('protocol checks against real servers', () => {
  it('the local NATS (JetStream on), Redis and PostgreSQL answer', async () => {
    expect(await probe('nats', NATS_URL)).toEqual({ answers: true });
    expect(await probe('redis', REDIS_URL)).toEqual({ answers: true });
    expect(await probe('postgres', PG_ADMIN_URL)).toEqual({ answers: true });
  });

  it('a PostgreSQL whose database does not exist yet answers (the apps create it)', async () => {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = '/openecm_never_created';
    expect(await probe('postgres', url.toString())).toEqual({ answers: true });
  });

  it('a NATS server without JetStream does not answer', async () => {
    const port = await freePort();
    const nats = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const exited = new Promise((r) => nats.once('exit', r));
    try {
      const result = await waitFor(async () => {
        const r = await probe('nats', `nats://127.0.0.1:${port}`);
        return r.answers || !/REFUSED/.test(r.reason) ? r : undefined;
      }, { what: 'nats-server to listen' });
      expect(result).toEqual({ answers: false, reason: expect.stringMatching(/^JetStream: /) });
    } finally {
      nats.kill('SIGTERM');
      await exited;
    }
  });
});
