import type { ConnectionOptions, NatsConnection } from 'nats';
// nats.js's own extension point for transports (nats.ws and nats.deno plug theirs in the same way); the package
// declares no `exports`, and its version is pinned exactly, so these paths are the ones its `connect` uses
import { NatsConnectionImpl, setTransportFactory } from 'nats/lib/src/nats-base-client';
import { NodeTransport, nodeResolveHost } from 'nats/lib/src/node_transport';

/**
 * nats.js's Node transport, writing to the socket once per event-loop turn.
 *
 * The client hands its transport what it has to send at the end of each microtask checkpoint. A process that
 * answers several requests in one turn (each arrived on its own socket, or each one's vault or database answer
 * did) then makes a write per answer: a system call, a TCP segment and a read in the NATS server for each.
 * Here the first send of a turn corks the socket and the turn's end (`setImmediate`) uncorks it, so whatever was
 * sent in between leaves in one write, in the order it was sent. A message waits for the rest of its turn at
 * most: under no load that is nothing, as nothing else runs in it. Write errors, TLS and reconnects are the Node
 * transport's own; a close writes what the turn holds before the socket goes.
 */
export class TurnCoalescingTransport extends NodeTransport {
  private corked = false;

  /** Writes what the turn has sent so far; the turn's end finds nothing left to write. */
  private readonly uncork = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.socket?.uncork();
  };

  override send(frame: Uint8Array): void {
    if (!this.corked && this.socket && !this.isClosed) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    super.send(frame);
  }

  /** The Node transport's close destroys the socket at once: what this turn sent (a last reply) is written first. */
  override close(err?: Error): Promise<void> {
    this.uncork();
    return super.close(err);
  }

  override disconnect(): void {
    this.uncork();
    super.disconnect();
  }
}

function useTurnCoalescingTransport(): void {
  setTransportFactory({ factory: () => new TurnCoalescingTransport(), dnsResolveFn: nodeResolveHost });
}

/**
 * `connect` of nats.js with the turn-coalescing transport. The transport factory is process-wide and nats.js's own
 * `connect` sets its plain transport back; it is set again here before each connection, and is what a reconnect
 * of any connection made here uses unless code in the same process called nats.js's `connect` since.
 */
export function connectNats(options: ConnectionOptions): Promise<NatsConnection> {
  useTurnCoalescingTransport();
  return NatsConnectionImpl.connect(options);
}
