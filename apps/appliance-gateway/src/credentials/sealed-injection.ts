import { Logger } from '@nestjs/common';
import { OpenEcmError, SEAL_CONTEXTS, Secret, type Injection, type PendingInjection, type RequestOf } from '@openecm/contracts';
import { SealingKeyPair } from '@openecm/crypto';
import type { Bus } from '@openecm/messaging';

const logger = new Logger('injections');

/**
 * Opens a lease with a key pair made for this request alone: vault-adapters seals the secret to its public
 * key, policy-approval passes it on unread, and it is opened here, just before the answer to the appliance.
 * The private key never leaves this process and is dropped with the request.
 */
export async function openLeaseSealed(
  bus: Bus,
  request: Omit<RequestOf<'policy.lease.open.v1'>, 'sealTo'>,
  release: (leaseId: string) => Promise<unknown>,
): Promise<Injection | PendingInjection> {
  const keys = await SealingKeyPair.generate();
  const opened = await bus.request('policy.lease.open.v1', { ...request, sealTo: keys.publicKey });
  // an approver must act first: nothing was checked out, nothing to open
  if ('approvalId' in opened) return opened;
  const secret = Secret.safeParse(await keys.open(opened.secret, SEAL_CONTEXTS.checkoutSecret(opened.leaseId)));
  if (!secret.success) {
    // never handed out: released at once, so the vault checks the credential in and rotates it
    logger.error({ leaseId: opened.leaseId }, 'the checked-out secret did not open with the key of this request; releasing the lease');
    await release(opened.leaseId).catch(() => undefined);
    throw new OpenEcmError('INTERNAL', 'the checked-out secret could not be opened');
  }
  return { ...opened, secret: secret.data };
}
