import type { ErrorBody } from '@openecm/contracts';

/** What every handler replies: the typed result, or a typed error that the caller rethrows. */
export type ReplyEnvelope<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
