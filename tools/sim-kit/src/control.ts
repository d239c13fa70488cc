import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sendJson } from './server';

/** What the shared control routes need of a simulator's state. */
export interface ControlledState<Fault, Seed> {
  stats(): { faultsPending: number };
  addFault(fault: Fault): void;
  clearFaults(): void;
  /** Answers the new simulator time in epoch milliseconds. */
  advanceClock(ms: number): number;
  /** Without a seed, back to the one the simulator started with. */
  reset(seed?: Seed): void;
}

export interface ControlRoutesOptions<Fault, Seed> {
  state: ControlledState<Fault, Seed>;
  /** Validates a posted fault; its output is what the state arms. */
  faultSchema: z.ZodType<Fault>;
  /** Validates a posted seed, so a bad one is a 400 and not a broken simulator. */
  seedSchema: z.ZodType<Seed>;
  emptySeed: Seed;
}

const resetSchema = z.object({ seed: z.unknown().optional(), empty: z.boolean().optional() });
const clockSchema = z.object({ advanceMs: z.number().int().nonnegative() });

/**
 * The control routes every simulator has: `GET stats`, `POST`/`DELETE faults`, `POST clock` and `POST reset`.
 * Register them on the plugin that holds the simulator's own control routes (prefix `/_sim`).
 */
export function registerControlRoutes<Fault, Seed>(control: FastifyInstance, options: ControlRoutesOptions<Fault, Seed>): void {
  const { state, faultSchema, seedSchema } = options;

  control.get('/stats', async (_request, reply) => sendJson(reply, 200, state.stats()));

  control.post('/faults', async (request, reply) => {
    const parsed = faultSchema.safeParse(request.body);
    if (!parsed.success) return sendJson(reply, 400, { error: z.prettifyError(parsed.error) });
    state.addFault(parsed.data);
    return sendJson(reply, 201, { pending: state.stats().faultsPending });
  });

  control.delete('/faults', async (_request, reply) => {
    state.clearFaults();
    return reply.code(204).send();
  });

  control.post('/clock', async (request, reply) => {
    const parsed = clockSchema.safeParse(request.body);
    if (!parsed.success) return sendJson(reply, 400, { error: z.prettifyError(parsed.error) });
    return sendJson(reply, 200, { now: new Date(state.advanceClock(parsed.data.advanceMs)).toISOString() });
  });

  control.post('/reset', async (request, reply) => {
    const parsed = resetSchema.safeParse(request.body ?? {});
    if (!parsed.success) return sendJson(reply, 400, { error: z.prettifyError(parsed.error) });
    if (parsed.data.empty) {
      state.reset(options.emptySeed);
    } else if (parsed.data.seed !== undefined) {
      const seed = seedSchema.safeParse(parsed.data.seed);
      if (!seed.success) return sendJson(reply, 400, { error: z.prettifyError(seed.error) });
      state.reset(seed.data);
    } else {
      state.reset();
    }
    return sendJson(reply, 200, { reset: true });
  });
}
