/**
 * What no span may carry of a URL, whoever makes the span. Kept free of any other project import, like register.ts.
 */

/** Password Safe request ids in a path are bearer capabilities: no span may carry them. */
const CAPABILITY = /\/(Credentials|Requests(?:\/Release)?)\/\d+/gi;

/** What an identity provider sends back to the console's callback (the authorization code, the state binding it). */
export const SIGN_IN_PARAMS = /((?:^|[?&])(?:code|state|session_state|id_token_hint)=)[^&#]*/gi;

export const SIGN_IN_CALLBACK = '/console/auth/callback';

/** A path or URL with its capabilities and sign-in codes replaced. */
export function redactUrl(url: string): string {
  const redacted = url.replace(CAPABILITY, '/$1/{id}');
  return redacted.includes(SIGN_IN_CALLBACK) ? redacted.replace(SIGN_IN_PARAMS, '$1{redacted}') : redacted;
}
