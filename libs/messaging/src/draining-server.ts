import { NatsContext, ServerNats } from '@nestjs/microservices';
import type { NatsOptions } from '@nestjs/microservices';
import { JSONCodec, type ConnectionOptions, type Msg, type NatsConnection, type Subscription } from 'nats';
import { isObservable, lastValueFrom } from 'rxjs';
import type { ReplyPacket, RequestPacket } from './bus';
import { connectNats } from './nats-transport';

const codec = JSONCodec<unknown>();

/** More subjects than any app subscribes to: past it, routes are worked out each time again. */
const MAX_ROUTES = 1024;

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
  private connection: NatsConnection | undefined;
  private markLeft!: () => void;
  /** Resolves once the instance has left its queue groups (NATS routes it nothing new). */
  readonly left = new Promise<void>((resolve) => (this.markLeft = resolve));

  constructor(
    private readonly connectOptions: Required<NatsOptions>['options'],
    private readonly drainTimeoutMs: number,
  ) {
    super(connectOptions);
  }

  /** Nest's own connection, on the transport that writes once per event-loop turn (see nats-transport.ts). */
  override createNatsClient(): Promise<NatsConnection> {
    return connectNats({ servers: 'nats://localhost:4222', ...this.connectOptions } as ConnectionOptions);
  }

  override bindEvents(client: NatsConnection): void {
    this.connection = client;
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

  /**
   * Ready once the server holds the subscriptions: a request sent right after start (a restarted instance) finds a
   * responder instead of NATS's "no responders".
   */
  override start(callback: (error?: unknown) => void): void {
    super.start((error?: unknown) => {
      if (error) return callback(error);
      if (!this.connection) return callback();
      this.connection.flush().then(
        () => callback(),
        (failure: unknown) => callback(failure),
      );
    });
  }

  /**
   * One request, answered with one reply packet: the handler's result awaited as it is (every `@Handles`
   * handler answers a promise of its envelope), without an observable per request. The packet is Nest's, so
   * either side may be of an earlier release. What is not a request packet goes to Nest's own handling.
   */
  override async handleMessage(channel: string, natsMsg: Msg): Promise<unknown> {
    let packet: Partial<RequestPacket> | undefined;
    try {
      packet = codec.decode(natsMsg.data) as Partial<RequestPacket>;
    } catch {
      packet = undefined;
    }
    if (!packet || typeof packet !== 'object' || packet.id === undefined || !natsMsg.reply) return super.handleMessage(channel, natsMsg);
    const id = packet.id;
    const done = this.inFlight.begin();
    const answer = (reply: ReplyPacket) => {
      // the connection may be closing under a late answer: the caller times out, as with a lost reply
      if (!this.closedConnection) natsMsg.respond(codec.encode({ ...reply, id }));
    };
    try {
      const handler = this.getHandlerByPattern(channel);
      if (!handler) return answer({ err: 'There is no matching message handler defined in the remote service.', isDisposed: true });
      const context = new NatsContext([natsMsg.subject, natsMsg.headers]);
      await this.onProcessingStartHook(this.transportId, context, async () => {
        try {
          const result: unknown = await handler(packet.data, context);
          const response: unknown = isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result;
          answer({ response, isDisposed: true });
        } catch {
          // a handler declared with @Handles never throws; anything else is answered as a failure of the responder
          answer({ err: 'internal error', isDisposed: true });
        } finally {
          this.onProcessingEndHook?.(this.transportId, context);
        }
      });
    } finally {
      done();
    }
    return undefined;
  }

  private closedConnection = false;

  /** Each subscribed subject's route, worked out once (see getRouteFromPattern). */
  private readonly routes = new Map<string, string>();

  /**
   * Nest works a route out of the subject of every message it is handed, first trying it as JSON: a subject is
   * never JSON, so each request paid for a thrown and caught SyntaxError (1.2% of policy-approval's profile of
   * an injection). The subjects are the few this server subscribed to, so each one's route is kept.
   */
  override getRouteFromPattern(pattern: string): string {
    let route = this.routes.get(pattern);
    if (route === undefined) {
      route = super.getRouteFromPattern(pattern);
      if (this.routes.size < MAX_ROUTES) this.routes.set(pattern, route);
    }
    return route;
  }

  override async close(): Promise<void> {
    // Messages already delivered to a subscription are still handed to it by drain().
    await Promise.all(this.subs.splice(0).map((sub) => sub.drain().catch(() => undefined)));
    this.markLeft();
    await this.inFlight.idle(this.drainTimeoutMs);
    this.closedConnection = true;
    await super.close();
  }
}
