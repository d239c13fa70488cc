import { ServerNats } from '@nestjs/microservices';
import type { NatsContext, NatsOptions } from '@nestjs/microservices';
import type { NatsConnection, Subscription } from 'nats';

/** What Nest's transport publishes for a request: the last packet of an answer is marked disposed. */
interface ReplyPacket {
  isDisposed?: boolean;
  status?: string;
}

/** Counts work in progress and tells when none is left. */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.count;
  }

  begin(): () => void {
    this.count++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.count--;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Resolves true once nothing is in flight, or false when `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/**
 * Nest's NATS transport with a drain on close: the instance first leaves its queue groups (the other
 * instances take every new request), then finishes the requests it already holds and answers them, and
 * only then closes its connection — at most `drainTimeoutMs` later.
 */
export class DrainingNatsServer extends ServerNats {
  readonly inFlight = new InFlight();
  private readonly subs: Subscription[] = [];
  private readonly finishers = new WeakMap<object, () => void>();
  private readonly replying = new WeakSet<object>();
  private markLeft!: () => void;
  /** Resolves once the instance has left its queue groups (NATS routes it nothing new). */
  readonly left = new Promise<void>((resolve) => (this.markLeft = resolve));

  constructor(
    options: Required<NatsOptions>['options'],
    private readonly drainTimeoutMs: number,
  ) {
    super(options);
  }

  override bindEvents(client: NatsConnection): void {
    const subs = this.subs;
    // The subscriptions the transport makes, kept so close() can leave them before the connection goes.
    const recording = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== 'subscribe') return Reflect.get(target, property, receiver) as unknown;
        return (...args: Parameters<NatsConnection['subscribe']>) => {
          const sub = target.subscribe(...args);
          subs.push(sub);
          return sub;
        };
      },
    });
    super.bindEvents(recording);
  }

  override async handleMessage(channel: string, natsMsg: object): Promise<unknown> {
    const done = this.inFlight.begin();
    this.finishers.set(natsMsg, done);
    try {
      return (await super.handleMessage(channel, natsMsg)) as unknown;
    } finally {
      // A request is done when its last reply packet is out (see getPublisher); an event when handled.
      if (!this.replying.has(natsMsg)) done();
    }
  }

  /** Nest answers on the next tick, after handleMessage returned: the reply itself marks the end. */
  override getPublisher(natsMsg: object, id: string, ctx: NatsContext): (response: ReplyPacket) => unknown {
    const publish = super.getPublisher(natsMsg, id, ctx) as (response: ReplyPacket) => unknown;
    const done = this.finishers.get(natsMsg);
    if (!done) return publish;
    this.replying.add(natsMsg);
    return (response) => {
      const sent = publish(response);
      if (response.isDisposed || response.status === 'error') done();
      return sent;
    };
  }

  override async close(): Promise<void> {
    // Messages already delivered to a subscription are still handed to it by drain().
    await Promise.all(this.subs.splice(0).map((sub) => sub.drain().catch(() => undefined)));
    this.markLeft();
    await this.inFlight.idle(this.drainTimeoutMs);
    await super.close();
  }
}
