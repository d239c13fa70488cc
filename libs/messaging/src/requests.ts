import { Events, createInbox, type Msg, type MsgHdrs, type NatsConnection } from 'nats';

/** Why a request got no answer: its time ran out, nobody listens on its subject, NATS refused it, or the connection closed. */
export type RequestFailure = 'timeout' | 'no-responders' | 'permission' | 'closed' | 'refused';

export class RequestFailed extends Error {
  constructor(readonly reason: RequestFailure) {
    super(`request failed: ${reason}`);
    this.name = 'RequestFailed';
  }
}

interface Pending {
  subject: string;
  resolve(msg: Msg): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The requests of one NATS connection, answered on one wildcard inbox subscription: a request is one publish with a
 * reply subject under the inbox, and its answer is matched by the token that ends that subject.
 *
 * What nats.js's own muxed request does, less its per-request cost: it made an `Error` (with its stack) for every
 * request that succeeded, to reject a promise already resolved, and raced a timer promise against each answer
 * (`docs/bench/profile.md`: 2-3% of the gateway's and policy-approval's CPU per list). A publish that the server
 * refuses for want of permission fails its requests at once, as nats.js's does.
 */
export class Requests {
  private static readonly byConnection = new WeakMap<NatsConnection, Requests>();
  private readonly pending = new Map<string, Pending>();
  private readonly prefix: string;
  private next = 0;

  private constructor(
    private readonly nc: NatsConnection,
    inboxPrefix: string | undefined,
  ) {
    this.prefix = `${createInbox(inboxPrefix)}.`;
    nc.subscribe(`${this.prefix}*`, { callback: (error, msg) => (error ? undefined : this.answer(msg)) });
    void this.watchRefusals();
    void nc.closed().then(() => this.failAll('closed'));
  }

  /** The registry of a connection, made with its first request; its inbox takes the connection's inbox prefix. */
  static of(nc: NatsConnection, inboxPrefix: string | undefined): Requests {
    let requests = Requests.byConnection.get(nc);
    if (!requests) {
      requests = new Requests(nc, inboxPrefix);
      Requests.byConnection.set(nc, requests);
    }
    return requests;
  }

  /** Publishes `data` to `subject` and resolves with its one answer, or rejects with a `RequestFailed`. */
  request(subject: string, data: Uint8Array, timeoutMs: number, headers?: MsgHdrs): Promise<Msg> {
    const token = (this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(token)?.reject(new RequestFailed('timeout')), timeoutMs);
      this.pending.set(token, { subject, resolve, reject, timer });
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}${token}`, ...(headers ? { headers } : {}) });
      } catch {
        this.settle(token);
        reject(new RequestFailed(this.nc.isClosed() ? 'closed' : 'refused'));
      }
    });
  }

  /** Requests waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  private settle(token: string): Pending | undefined {
    const pending = this.pending.get(token);
    if (!pending) return undefined;
    this.pending.delete(token);
    clearTimeout(pending.timer);
    return pending;
  }

  private answer(msg: Msg): void {
    // an answer after its request timed out finds nothing
    const pending = this.settle(msg.subject.slice(this.prefix.length));
    if (!pending) return;
    // the server answers a request nobody listens to with a 503 status of its own
    if (msg.headers?.hasError) pending.reject(new RequestFailed(msg.headers.code === 503 ? 'no-responders' : 'refused'));
    else pending.resolve(msg);
  }

  private async watchRefusals(): Promise<void> {
    for await (const status of this.nc.status()) {
      const refused = status.type === Events.Error ? status.permissionContext : undefined;
      if (refused?.operation !== 'publish') continue;
      for (const [token, pending] of this.pending) if (pending.subject === refused.subject) this.settle(token)?.reject(new RequestFailed('permission'));
    }
  }

  private failAll(reason: RequestFailure): void {
    for (const token of [...this.pending.keys()]) this.settle(token)?.reject(new RequestFailed(reason));
  }
}
