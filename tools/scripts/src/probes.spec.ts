import { createServer, type Server } from 'node:net';
import { freePort } from '@openecm/testing';
import { probe } from './probes';

describe('protocol checks', () => {
  it.each([
    ['nats', (port: number) => `nats://127.0.0.1:${port}`],
    ['redis', (port: number) => `redis://127.0.0.1:${port}`],
    ['postgres', (port: number) => `postgres://postgres@127.0.0.1:${port}/openecm_demo`],
  ] as const)('%s: a port nobody listens on does not answer, and says why', async (kind, url) => {
    const result = await probe(kind, url(await freePort()));
    expect(result).toEqual({ answers: false, reason: expect.stringMatching(/REFUSED/i) });
  });

  describe('a port that accepts connections but speaks another protocol', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer((socket) => socket.resume().end('HTTP/1.1 400 Bad Request\r\n\r\n'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise((r) => server.close(r)));

    it.each(['nats', 'redis', 'postgres'] as const)('%s does not answer', async (kind) => {
      const scheme = kind === 'postgres' ? 'postgres://postgres@' : `${kind}://`;
      const result = await probe(kind, `${scheme}127.0.0.1:${port}/`);
      expect(result.answers).toBe(false);
    });
  });
});
