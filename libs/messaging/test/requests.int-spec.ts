import { loadConfig, natsConfig } from '@openecm/config';
import { StringCodec, connect, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { Requests } from '../src/requests';

const servers = [loadConfig(natsConfig).NATS_URL];
const sc = StringCodec();

describe('requests over one inbox subscription, against real NATS', () => {
  let nc: NatsConnection;
  let responder: NatsConnection;
  /** A subject of this test run alone. */
  const subject = (name: string) => `requests-test.${randomUUID()}.${name}`;

  beforeEach(async () => {
    nc = await connect({ servers, inboxPrefix: '_INBOX_requests_test' });
    responder = await connect({ servers });
  });

  afterEach(async () => {
    await responder.close();
    if (!nc.isClosed()) await nc.close();
  });

  it('gives each of many concurrent requests its own answer, answered out of order', async () => {
    const echo = subject('echo');
    let seen = 0;
    responder.subscribe(echo, {
      // the later of each pair is answered first
      callback: (_e, msg) => setTimeout(() => msg.respond(sc.encode(`answer to ${sc.decode(msg.data)}`)), ++seen % 2 === 0 ? 0 : 5),
    });
    await responder.flush();
    const requests = Requests.of(nc, '_INBOX_requests_test');
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => requests.request(echo, sc.encode(`r${i}`), 5_000)));
    expect(answers.map((m) => sc.decode(m.data))).toEqual(Array.from({ length: 200 }, (_, i) => `answer to r${i}`));
    // every answer came to the one inbox, under its prefix
    expect(answers.every((m) => m.subject.startsWith('_INBOX_requests_test.'))).toBe(true);
    expect(requests.size).toBe(0);
    expect(Requests.of(nc, '_INBOX_requests_test')).toBe(requests);
  });

  it('rejects a request left unanswered when its time runs out, and ignores its late answer', async () => {
    const slow = subject('slow');
    const late: Array<() => void> = [];
    responder.subscribe(slow, { callback: (_e, msg) => late.push(() => msg.respond(sc.encode('too late'))) });
    await responder.flush();
    const requests = Requests.of(nc, undefined);
    const started = Date.now();
    await expect(requests.request(slow, sc.encode('x'), 150)).rejects.toMatchObject({ name: 'RequestFailed', reason: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(requests.size).toBe(0);
    // the answer that comes after is dropped, and the next request is answered as usual
    late.forEach((respond) => respond());
    const next = subject('next2');
    responder.subscribe(next, { callback: (_e, msg) => msg.respond(sc.encode('on time')) });
    await responder.flush();
    expect(sc.decode((await requests.request(next, sc.encode('y'), 5_000)).data)).toBe('on time');
  });

  it('says at once that nobody listens on a subject, long before the timeout', async () => {
    const requests = Requests.of(nc, undefined);
    const started = Date.now();
    await expect(requests.request(subject('nobody'), sc.encode('x'), 10_000)).rejects.toMatchObject({ name: 'RequestFailed', reason: 'no-responders' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails what is still waiting when the connection closes', async () => {
    const held = subject('held');
    responder.subscribe(held, { callback: () => undefined });
    await responder.flush();
    const requests = Requests.of(nc, undefined);
    const waiting = requests.request(held, sc.encode('x'), 10_000);
    await nc.flush();
    await nc.close();
    await expect(waiting).rejects.toMatchObject({ name: 'RequestFailed', reason: 'closed' });
    await expect(requests.request(held, sc.encode('x'), 10_000)).rejects.toMatchObject({ name: 'RequestFailed', reason: 'closed' });
  });
});
