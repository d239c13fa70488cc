import { loadConfig, natsConfig } from '@openecm/config';
import { StringCodec, connect, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { connectNats } from '../src/nats-transport';

const servers = [loadConfig(natsConfig).NATS_URL];
const sc = StringCodec();
const subject = (name: string) => `transport-test.${randomUUID()}.${name}`;

/** Counts the writes the connection's socket makes from now on (each one a system call and a TCP segment). */
function countWrites(nc: NatsConnection): { readonly count: number } {
  const socket = (nc as unknown as { protocol: { transport: { socket: Socket } } }).protocol.transport.socket;
  const counter = { count: 0 };
  for (const method of ['_write', '_writev'] as const) {
    const original = socket[method] as (...args: unknown[]) => void;
    socket[method] = ((...args: unknown[]) => {
      counter.count++;
      original.apply(socket, args);
    }) as never;
  }
  return counter;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Publishes `n` messages in one event-loop turn, each after the client's previous flush. */
async function publishInOneTurn(nc: NatsConnection, to: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    nc.publish(to, sc.encode(`m${i}`));
    // the client hands its transport what it holds at each microtask checkpoint; this lets it do so each time
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    await null;
  }
}

describe('the NATS transport that writes once per event-loop turn, against real NATS', () => {
  let plain: NatsConnection;
  const opened: NatsConnection[] = [];

  beforeEach(async () => {
    // nats.js's own connect first: it sets its plain transport back for the process, which connectNats then replaces
    plain = await connect({ servers });
  });

  afterEach(async () => {
    await Promise.all([plain, ...opened.splice(0)].map((nc) => (nc.isClosed() ? undefined : nc.close())));
  });

  it('sends what one turn publishes in one write, in order, where the plain transport makes a write each time', async () => {
    const to = subject('burst');
    const received: string[] = [];
    plain.subscribe(to, { callback: (_e, msg) => received.push(sc.decode(msg.data)) });
    await plain.flush();

    const coalescing = await connectNats({ servers });
    opened.push(coalescing);
    const baseline = await connect({ servers });
    opened.push(baseline);
    await Promise.all([coalescing.flush(), baseline.flush()]);

    const turnWrites = countWrites(coalescing);
    await publishInOneTurn(coalescing, to, 50);
    await until(() => received.length === 50);
    expect(received).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(turnWrites.count).toBe(1);

    received.length = 0;
    const plainWrites = countWrites(baseline);
    await publishInOneTurn(baseline, to, 50);
    await until(() => received.length === 50);
    expect(plainWrites.count).toBeGreaterThan(10);
  });

  it('answers many requests between two such connections, each with its own answer', async () => {
    const echo = subject('echo');
    const responder = await connectNats({ servers });
    const requester = await connectNats({ servers });
    opened.push(responder, requester);
    responder.subscribe(echo, { callback: (_e, msg) => msg.respond(sc.encode(`answer to ${sc.decode(msg.data)}`)) });
    await responder.flush();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => requester.request(echo, sc.encode(`r${i}`), { timeout: 5_000 })));
    expect(answers.map((m) => sc.decode(m.data))).toEqual(Array.from({ length: 100 }, (_, i) => `answer to r${i}`));
  });

  it('writes an answer the client handed it before a close in the same turn', async () => {
    const last = subject('last-word');
    const responder = await connectNats({ servers });
    opened.push(responder);
    responder.subscribe(last, {
      callback: (_e, msg) => {
        msg.respond(sc.encode('said before closing'));
        // after the client's own flush of the answer (queued first), as a draining server closes once it answered
        queueMicrotask(() => void responder.close());
      },
    });
    await responder.flush();
    const answer = await plain.request(last, sc.encode('?'), { timeout: 5_000 });
    expect(sc.decode(answer.data)).toBe('said before closing');
    await responder.closed();
  });

  it('delivers what was published in the turn of a drain', async () => {
    const to = subject('drained');
    const received: string[] = [];
    plain.subscribe(to, { callback: (_e, msg) => received.push(sc.decode(msg.data)) });
    await plain.flush();
    const publisher = await connectNats({ servers });
    opened.push(publisher);
    for (let i = 0; i < 20; i++) publisher.publish(to, sc.encode(`d${i}`));
    await publisher.drain();
    await until(() => received.length === 20);
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => `d${i}`));
  });
});
