import type { SimLogger } from './server';

/** What a spec needs of a simulator: start on a port, stop. */
export interface ListeningSim {
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
}

export interface StartedSim<Sim> {
  sim: Sim;
  /** What `listen` resolved to. */
  base: string;
  /** Scheme, host and port of `base`: where the `/_sim` control API lives. */
  origin: string;
}

export interface SimHarness<Args extends unknown[], Sim> {
  /** Creates a simulator and starts it on a free port. */
  start(...args: Args): Promise<StartedSim<Sim>>;
  /** Closes every simulator started since the last call; for `afterEach`. */
  closeAll(): Promise<void>;
}

export function simHarness<Args extends unknown[], Sim extends ListeningSim>(create: (...args: Args) => Sim): SimHarness<Args, Sim> {
  const running: Sim[] = [];
  return {
    async start(...args) {
      const sim = create(...args);
      running.push(sim);
      const base = await sim.listen(0);
      return { sim, base, origin: new URL(base).origin };
    },
    async closeAll() {
      await Promise.all(running.splice(0).map((s) => s.close()));
    },
  };
}

/** A logger that keeps each line as `<message> <fields as JSON>`, for specs that assert on what is logged. */
export function captureLog(): { lines: string[]; logger: SimLogger } {
  const lines: string[] = [];
  const capture = (obj: object, msg: string): void => {
    lines.push(`${msg} ${JSON.stringify(obj)}`);
  };
  return { lines, logger: { debug: capture, error: capture } };
}

/** POSTs to the control API at `origin`, with `body` as JSON when there is one. */
export function postControl(origin: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${origin}/_sim/${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
}

/** Polls for effects a simulator applies after answering (sweeps, logs): the workspace's one helper. */
export { waitFor } from '@openecm/testing';
