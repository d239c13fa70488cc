import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordGatewayAnswers, watchGateway, watchedGateways } from './gateway-answers';
import type { ObservedAnswer } from './openapi-conformance';

describe('recordGatewayAnswers', () => {
  let servers: Server[];
  const urls: string[] = [];

  beforeAll(async () => {
    servers = [0, 1].map(() =>
      createServer((req, res) => {
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ path: req.url }));
      }),
    );
    for (const server of servers) {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it("records the watched gateway's answers only, and the caller still reads every body", async () => {
    const [gateway, other] = urls as [string, string];
    const before = watchedGateways();
    watchGateway(`${gateway}/`);
    expect(watchedGateways()).toBe(before + 1);
    const seen: ObservedAnswer[] = [];
    const stop = recordGatewayAnswers((a) => seen.push(a));
    try {
      const posted = await fetch(new Request(`${gateway}/api/v1/injections`, { method: 'POST', body: '{}' }));
      expect(await posted.json()).toEqual({ path: '/api/v1/injections' });
      expect(await (await fetch(`${other}/_sim/stats`)).json()).toEqual({ path: '/_sim/stats' });
      await fetch(new URL(`${gateway}/health/ready`));
    } finally {
      stop();
    }
    await fetch(`${gateway}/after-stop`);
    expect(seen).toEqual([
      { method: 'POST', url: `${gateway}/api/v1/injections`, status: 201, contentType: 'application/json', body: '{"path":"/api/v1/injections"}' },
      { method: 'GET', url: `${gateway}/health/ready`, status: 200, contentType: 'application/json', body: '{"path":"/health/ready"}' },
    ]);
  });
});
