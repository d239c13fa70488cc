import { Injectable, Logger } from '@nestjs/common';

/**
 * Why a sign-in failed: refused by the limits before its secret was checked, an unknown client id or a wrong
 * secret (alike to the caller), no client credentials at all, a malformed request, or a failure of the gateway.
 */
export type SignInFailureReason = 'rate-limited' | 'locked' | 'invalid-credentials' | 'missing-credentials' | 'invalid-request' | 'error';

/** One failed sign-in: who it claimed to be and where it came from, never the secret it tried. */
export interface FailedSignIn {
  /** The client id as sent (its first reading), or null when none could be read. */
  clientId: string | null;
  /** The source address, as the trusted proxies tell it (GATEWAY_TRUSTED_PROXIES). */
  address: string;
  reason: SignInFailureReason;
  at: string;
}

export type SignInFailureListener = (failure: FailedSignIn) => void | Promise<void>;

/**
 * Every failed sign-in passes here: it is logged as one structured line, and each subscriber (the audit
 * trail) is awaited before the answer leaves, so a subscriber can commit its record first.
 */
@Injectable()
export class SignInEvents {
  private readonly logger = new Logger('sign-in');
  private readonly listeners = new Set<SignInFailureListener>();

  /** Subscribes to failed sign-ins; the function returned unsubscribes. */
  onFailure(listener: SignInFailureListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async failed(failure: Omit<FailedSignIn, 'at'>): Promise<void> {
    const event: FailedSignIn = { ...failure, at: new Date().toISOString() };
    this.logger.warn({ event: 'sign-in.failed', clientId: event.clientId, address: event.address, reason: event.reason, msg: 'sign-in failed' });
    await Promise.all(
      [...this.listeners].map(async (listener) => {
        try {
          await listener(event);
        } catch (error) {
          this.logger.error({ event: 'sign-in.failed', err: error instanceof Error ? error.name : typeof error, msg: 'a sign-in failure subscriber failed' });
        }
      }),
    );
  }
}
