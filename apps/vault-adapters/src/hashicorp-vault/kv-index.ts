import { ShortLived } from '@openecm/vault-sdk';

/** The secrets below a KV source's folder with their custom_metadata (never their data: no password is kept here). */
export interface KvListing {
  secrets: Array<{ path: string; meta: Record<string, string> }>;
  /** The walk stopped at its bound with secrets left. */
  more: boolean;
}

/**
 * What a KV source holds, kept for a short while per (connection, address, namespace, mount, folder): a walk of a
 * KV mount costs a LIST per folder and a metadata read per secret, and its answer is the same for every user and
 * endpoint (the broker filters it for each). Lists and searches that ask at once share one walk; a failed walk is
 * not kept. A connection's entries go when its settings change, and a secret added at Vault shows within `ttlMs`.
 */
export class KvIndex extends ShortLived<KvListing> {}
