import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

/** The part of a simulator's fault that decides which calls it hits, how often, and how it disturbs them. */
export interface FaultMatch {
  /** How many more calls the fault answers; it is gone at 0. */
  count: number;
  method?: string;
  /** Case-insensitive substring of the path below the API base path. */
  path?: string;
  /** SOAP operation named by SOAPAction; a fault that names one never hits a call without one. */
  operation?: string;
  /** Wait this long before answering (or going through): a slow vault. */
  delayMs?: number;
  /** Destroy the socket instead of answering, to look like a transport failure. */
  drop?: boolean;
}

export interface FaultedCall {
  method: string;
  /** The path below the API base path. */
  path: string;
  operation?: string | undefined;
}

const sameText = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Faults a test armed, served first-armed-first to the calls they match until their count runs out. */
export class FaultInjector<F extends FaultMatch> {
  private faults: F[] = [];
  private servedCount = 0;

  add(fault: F): void {
    // A copy, so the caller's object keeps its count while the injector spends its own.
    this.faults.push({ ...fault });
  }

  clear(): void {
    this.faults = [];
  }

  /** Clears the faults and the served count, as a simulator reset starts counting afresh. */
  reset(): void {
    this.faults = [];
    this.servedCount = 0;
  }

  /** Calls the armed faults will still answer. */
  get pending(): number {
    return this.faults.reduce((sum, f) => sum + f.count, 0);
  }

  get served(): number {
    return this.servedCount;
  }

  take(call: FaultedCall): F | undefined {
    const path = call.path.toLowerCase();
    const { operation } = call;
    const fault = this.faults.find(
      (f) =>
        f.count > 0 &&
        (!f.method || sameText(f.method, call.method)) &&
        (!f.path || path.includes(f.path.toLowerCase())) &&
        (!f.operation || (operation !== undefined && sameText(f.operation, operation))),
    );
    if (!fault) return undefined;
    fault.count -= 1;
    this.faults = this.faults.filter((f) => f.count > 0);
    this.servedCount += 1;
    return { ...fault };
  }
}

/** Waits, but gives up at once when `closing` aborts, so a long "slow vault" delay never holds a simulator open. */
export function pause(ms: number, closing: AbortSignal): Promise<void> {
  if (closing.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      closing.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    closing.addEventListener('abort', done, { once: true });
  });
}

export interface FaultHookOptions<F extends FaultMatch> {
  /** The normalised API base path the hook's plugin is registered under. */
  basePath: string;
  /** Takes the fault for this call, if one is armed; `relativePath` is what fault paths are matched against. */
  take(request: FastifyRequest, relativePath: string): F | undefined;
  /** Aborted when the simulator closes; ends delays early. */
  closing: AbortSignal;
  /**
   * Answers a fault that did not drop the connection, after its delay. Sending nothing lets the call go
   * through to its route.
   */
  answer(fault: F, request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined;
}

/** Serves armed faults ahead of the routes of `api`. */
export function registerFaultHook<F extends FaultMatch>(api: FastifyInstance, options: FaultHookOptions<F>): void {
  const { basePath } = options;
  api.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const relative = path.toLowerCase().startsWith(basePath.toLowerCase()) ? path.slice(basePath.length + 1) : path;
    const fault = options.take(request, relative);
    if (!fault) return;
    if (fault.delayMs !== undefined) await pause(fault.delayMs, options.closing);
    if (fault.drop) {
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    return options.answer(fault, request, reply);
  });
}

/** A fault that may let the call through (a slow vault) or answer after the call took effect (a lost answer). */
export interface LateFaultMatch extends FaultMatch {
  status: number;
  /** Let the call take effect, then answer with the fault: an answer lost after the server acted. */
  afterHandler?: boolean;
  /** After `delayMs`, the call goes through unchanged: a slow vault, not a failing one. */
  through?: boolean;
}

export interface VendorFaultOptions<F extends LateFaultMatch> extends Omit<FaultHookOptions<F>, 'answer'> {
  /** Answers a fault in the vendor's shape, before the route runs. */
  send(fault: F, reply: FastifyReply): FastifyReply;
  /** Sets the status and type of an answer replaced after the route ran, and gives its body. */
  replace(fault: F, reply: FastifyReply): string;
  /** Simulator time, sent as every answer's `Date`: the vault's clock, moved or not. */
  now(): number;
}

/**
 * Faults served ahead of the routes of `api` (registerFaultHook), plus the two kinds every vault simulator has: a
 * call let through after its delay, and a call that takes effect and whose answer is then replaced by the fault.
 */
export function registerVendorFaults<F extends LateFaultMatch>(api: FastifyInstance, options: VendorFaultOptions<F>): void {
  const late = new WeakMap<FastifyRequest, F>();
  registerFaultHook(api, {
    basePath: options.basePath,
    closing: options.closing,
    take: options.take,
    answer(fault, request, reply) {
      if (fault.through) return undefined;
      if (!fault.afterHandler) return options.send(fault, reply);
      late.set(request, fault);
      return undefined;
    },
  });
  api.addHook('onSend', async (request, reply, payload) => {
    reply.header('date', new Date(options.now()).toUTCString());
    const fault = late.get(request);
    if (!fault) return payload;
    late.delete(request);
    reply.code(fault.status);
    return options.replace(fault, reply);
  });
}

/** The control API's schema of a LateFaultMatch, with the vendor's shape of a fault's body. */
export function lateFaultSchema<B extends z.ZodType>(body: B) {
  return z.object({
    status: z.number().int().min(100).max(599).default(503),
    count: z.number().int().positive().default(1),
    body: body.optional(),
    method: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    drop: z.boolean().optional(),
    afterHandler: z.boolean().optional(),
    delayMs: z.number().int().min(0).max(120_000).optional(),
    through: z.boolean().optional(),
  });
}
