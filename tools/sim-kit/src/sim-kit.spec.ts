import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { FaultInjector, SimClock, createSimServer, normaliseBasePath, pause, registerFaultHook, seedFiles, type FaultMatch } from './index';

interface TestFault extends FaultMatch {
  status: number;
}

describe('FaultInjector', () => {
  it('matches method, path and operation case-insensitively and spends each fault count times', () => {
    const faults = new FaultInjector<TestFault>();
    faults.add({ status: 503, count: 2, method: 'get', path: 'API/v1' });
    faults.add({ status: 500, count: 1, operation: 'GetSecret' });
    expect(faults.pending).toBe(3);
    expect(faults.take({ method: 'POST', path: 'api/v1/secrets' })).toBeUndefined();
    expect(faults.take({ method: 'GET', path: 'api/v1/secrets' })).toMatchObject({ status: 503, count: 1 });
    expect(faults.take({ method: 'POST', path: 'webservices', operation: undefined })).toBeUndefined();
    expect(faults.take({ method: 'POST', path: 'webservices', operation: 'getsecret' })).toMatchObject({ status: 500 });
    expect(faults.take({ method: 'GET', path: 'api/v1/x' })).toMatchObject({ status: 503, count: 0 });
    expect(faults.take({ method: 'GET', path: 'api/v1/x' })).toBeUndefined();
    expect({ pending: faults.pending, served: faults.served }).toEqual({ pending: 0, served: 3 });
  });

  it("serves the first armed fault first, keeps the caller's object intact, and resets its count", () => {
    const faults = new FaultInjector<TestFault>();
    const first = { status: 503, count: 1 };
    faults.add(first);
    faults.add({ status: 500, count: 1 });
    expect(faults.take({ method: 'GET', path: '' })?.status).toBe(503);
    expect(first.count).toBe(1);
    faults.clear();
    expect(faults.pending).toBe(0);
    expect(faults.served).toBe(1);
    faults.reset();
    expect(faults.served).toBe(0);
  });
});

describe('SimClock', () => {
  it('runs with wall time and moves forward by what tests add', () => {
    const clock = new SimClock();
    const before = Date.now();
    expect(clock.now()).toBeGreaterThanOrEqual(before);
    const advanced = clock.advance(60_000);
    expect(advanced).toBeGreaterThanOrEqual(before + 60_000);
    expect(clock.now()).toBeGreaterThanOrEqual(advanced);
  });
});

describe('pause', () => {
  it('ends early when the simulator closes', async () => {
    const closing = new AbortController();
    const startedAt = Date.now();
    const waiting = pause(60_000, closing.signal);
    closing.abort();
    await waiting;
    await pause(60_000, closing.signal);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });
});

describe('seedFiles', () => {
  const schema = z.object({ users: z.array(z.string()).default([]) });
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sim-kit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses with defaults and loads files, naming the simulator and the file in errors', () => {
    const demo = join(dir, 'demo.json');
    writeFileSync(demo, '{"users":["alice"]}');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"users":[1]}');
    const seeds = seedFiles(schema, 'Test simulator', demo);
    expect(seeds.parseSeed({})).toEqual({ users: [] });
    expect(seeds.loadDemoSeed()).toEqual({ users: ['alice'] });
    expect(() => seeds.parseSeed({ users: [2] as unknown as string[] })).toThrow(/^invalid Test simulator seed: /);
    expect(() => seeds.loadSeedFile(bad)).toThrow(`invalid Test simulator seed ${bad}: `);
  });
});

describe('normaliseBasePath', () => {
  it.each([
    ['/SecretServer', '/SecretServer'],
    ['vault/SecretServer/', '/vault/SecretServer'],
    ['/', ''],
    ['', ''],
  ])('%j becomes %j', (input, expected) => {
    expect(normaliseBasePath(input)).toBe(expected);
  });
});

describe('createSimServer', () => {
  it('resolves the base URL, serves faults below it, parses bodies leniently and closes once', async () => {
    const lines: string[] = [];
    const server = createSimServer({
      basePath: '/api',
      invalidJson: () => Object.assign(new Error('bad json'), { statusCode: 400 }),
      logger: { debug: (obj, msg) => lines.push(`${msg} ${JSON.stringify(obj)}`), error: () => undefined },
      requestLogMessage: 'test simulator request',
    });
    const faults = new FaultInjector<TestFault>();
    server.app.register(
      async (api) => {
        registerFaultHook(api, {
          basePath: '/api',
          closing: server.closing,
          take: (request, path) => faults.take({ method: request.method, path }),
          answer: (fault, _request, reply) => reply.code(fault.status).send(''),
        });
        api.post('/echo/:id', async (request) => ({ body: request.body ?? null }));
      },
      { prefix: '/api' },
    );
    const base = await server.listen(0, '0.0.0.0');
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    const post = (body: string, type: string): Promise<Response> => fetch(`${base}/ECHO/7`, { method: 'POST', headers: { 'content-type': type }, body });
    expect(await (await post('', 'application/json')).json()).toEqual({ body: null });
    expect(await (await post('a=1', 'application/x-www-form-urlencoded')).json()).toEqual({ body: { a: '1' } });
    expect(await (await post('<x/>', 'text/xml')).json()).toEqual({ body: '<x/>' });
    expect((await post('{', 'application/json')).status).toBe(400);
    faults.add({ status: 503, count: 1, path: 'echo' });
    expect((await post('{}', 'application/json')).status).toBe(503);
    expect(lines.join('\n')).toContain('test simulator request {"method":"POST","route":"/api/echo/:id","status":200');
    expect(lines.join('\n')).not.toContain('/echo/7');
    const closed = server.close();
    expect(server.close()).toBe(closed);
    await closed;
    expect(server.closing.aborted).toBe(true);
  });
});
