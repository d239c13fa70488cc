import { DrainingNatsServer, InFlight } from './draining-server';

describe('InFlight', () => {
  it('is idle at once when nothing runs, and when the last piece of work ends', async () => {
    const work = new InFlight();
    await expect(work.idle(1000)).resolves.toBe(true);
    const a = work.begin();
    const b = work.begin();
    const idle = work.idle(10_000);
    a();
    a(); // ending twice counts once
    expect(work.size).toBe(1);
    b();
    await expect(idle).resolves.toBe(true);
  });

  it('gives up after the timeout while work is still running', async () => {
    const work = new InFlight();
    work.begin();
    await expect(work.idle(20)).resolves.toBe(false);
    expect(work.size).toBe(1);
  });
});

describe('DrainingNatsServer routes', () => {
  it('finds the handler of a subject as Nest does, the second time without parsing it again', () => {
    const server = new DrainingNatsServer({ servers: 'nats://127.0.0.1:4222' }, 1000);
    const handler = Object.assign(async () => ({ ok: true }), { isEventHandler: false });
    server.addHandler('t1.policy.lease.open.v1', handler);
    server.addHandler({ cmd: 'json-pattern' }, handler);
    const parse = jest.spyOn(JSON, 'parse');
    expect(server.getHandlerByPattern('t1.policy.lease.open.v1')).toBe(handler);
    const parsed = parse.mock.calls.length;
    expect(server.getHandlerByPattern('t1.policy.lease.open.v1')).toBe(handler);
    expect(parse.mock.calls.length).toBe(parsed);
    // a pattern that is JSON still resolves to its handler, as in Nest's own transport
    expect(server.getHandlerByPattern('{"cmd":"json-pattern"}')).toBe(handler);
    expect(server.getHandlerByPattern('t1.no.such.subject')).toBeNull();
    parse.mockRestore();
  });
});
