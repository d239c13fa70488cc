import { OpenEcmError, type ErrorCode } from '@openecm/contracts';
import { VaultTransportError, type VaultTransportFailure } from './http/vault-http';

const TRANSPORT_CODES: Record<VaultTransportFailure, ErrorCode> = {
  tls: 'VAULT_TLS_ERROR',
  unreachable: 'VAULT_UNAVAILABLE',
  'too-large': 'VAULT_ERROR',
  'refused-address': 'VAULT_ADDRESS_REFUSED',
};

/** The broker's error for a transport failure; its message names the vault and the call, never a URL or a body. */
export function transportError(error: VaultTransportError): OpenEcmError {
  return new OpenEcmError(TRANSPORT_CODES[error.failure], error.message);
}

/**
 * The Test Settings step a failure belongs to when it happened before any answer: a certificate is `tls`, an
 * address the broker refuses or a vault that does not answer is `connect`; otherwise the step that was running.
 */
export function transportStep<S extends string>(error: unknown, running: S): S | 'tls' | 'connect' {
  if (!(error instanceof VaultTransportError)) return running;
  if (error.failure === 'tls') return 'tls';
  if (error.failure === 'refused-address' || error.failure === 'unreachable') return 'connect';
  return running;
}

export { OpenEcmError, type ErrorCode };
