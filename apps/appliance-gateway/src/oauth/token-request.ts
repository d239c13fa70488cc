import { SecretValue } from '@openecm/crypto';
import { TokenRequest, parseOrThrow } from '@openecm/contracts';
import { parseBasicAuthorization, type ClientCredentials } from './client-credentials';
import { OAuthError } from './oauth-error';

const CONTROL = /\p{Cc}/u;

export function parseTokenRequest(body: unknown): TokenRequest {
  const grant = typeof body === 'object' && body !== null ? (body as { grant_type?: unknown }).grant_type : undefined;
  if (typeof grant === 'string' && grant !== 'client_credentials') {
    throw new OAuthError('VALIDATION_FAILED', 'only the client_credentials grant is supported', 'unsupported_grant_type', [
      { field: 'grant_type', message: 'must be client_credentials' },
    ]);
  }
  return parseOrThrow(TokenRequest, body, 'token request');
}

/**
 * The client's id and secret, from HTTP Basic or from the body. RFC 6749 2.3 forbids using both at once;
 * the result lists every reading of the credentials to try, best first.
 */
export function clientCredentialsOf(authorization: string | undefined, request: TokenRequest): ClientCredentials[] {
  const basic = parseBasicAuthorization(authorization);
  const inBody = request.client_id !== undefined || request.client_secret !== undefined;
  if (basic.kind === 'malformed') throw OAuthError.invalidClient('the Basic authorization header is malformed');
  if (basic.kind === 'basic') {
    if (inBody) {
      throw new OAuthError('VALIDATION_FAILED', 'client credentials were sent twice', 'invalid_request', [
        { field: 'client_id, client_secret', message: 'not allowed with HTTP Basic authentication' },
      ]);
    }
    // the id is looked up in Postgres, which refuses a NUL: a 400 naming it, not a failure of the gateway
    if (basic.candidates.some((c) => CONTROL.test(c.clientId))) {
      throw new OAuthError('VALIDATION_FAILED', 'invalid client credentials: client_id (must not contain control characters)', 'invalid_request', [
        { field: 'client_id', message: 'must not contain control characters' },
      ]);
    }
    return basic.candidates;
  }
  if (request.client_id === undefined || request.client_secret === undefined) {
    throw OAuthError.invalidClient('client authentication is required');
  }
  return [{ clientId: request.client_id, clientSecret: SecretValue.of(request.client_secret) }];
}
