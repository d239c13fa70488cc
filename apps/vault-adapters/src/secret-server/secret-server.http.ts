import {
  VaultHttp,
  VaultTransportError,
  type VaultHttpAnswer,
  type VaultHttpCall,
  type VaultHttpLogger,
  type VaultTransportFailure,
  type VaultTransportOptions,
} from '@openecm/vault-sdk';
import { SecretServerError, type SecretServerErrorKind } from './secret-server.errors';

export type SecretServerLogger = VaultHttpLogger;

export type SecretServerHttpOptions = VaultTransportOptions;

export type HttpCall = VaultHttpCall;
export type HttpAnswer = VaultHttpAnswer;

const DEFAULTS = { attempts: 4 };

const TRANSPORT_KINDS: Record<VaultTransportFailure, SecretServerErrorKind> = {
  tls: 'tls',
  unreachable: 'connect',
  'too-large': 'unexpected',
  'refused-address': 'address-refused',
};

/**
 * The shared vault transport (TLS, timeouts, retries) with its failures as SecretServerErrors. A retryable
 * status (5xx, 408) that outlasts the retries is `unavailable`; any other answer goes back to the caller
 * to interpret.
 */
export class SecretServerHttp {
  private readonly http: VaultHttp;

  constructor(options: SecretServerHttpOptions) {
    this.http = new VaultHttp({
      ...options,
      vault: 'Secret Server',
      retry: { ...options.retry, attempts: options.retry?.attempts ?? DEFAULTS.attempts },
    });
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  async send(call: HttpCall): Promise<HttpAnswer> {
    let answer: HttpAnswer;
    try {
      answer = await this.http.send(call);
    } catch (error) {
      if (!(error instanceof VaultTransportError)) throw error;
      throw new SecretServerError(TRANSPORT_KINDS[error.failure], error.message, error.details);
    }
    if (answer.exhausted) {
      throw new SecretServerError('unavailable', `Secret Server answered ${answer.status} to ${call.op} after ${answer.attempts} attempts`, {
        status: answer.status,
        attempts: answer.attempts,
      });
    }
    return answer;
  }
}

const ASMX = /\/webservices\/[^/]+\.asmx\/?$/i;
export const SOAP_PATH = '/webservices/SSWebService.asmx';

/**
 * The two URLs a connection uses. The setting may be the SOAP endpoint as the plugin asks for it
 * (`.../webservices/SSWebservice.asmx`, any case) or the Secret Server base URL; query and fragment are
 * dropped because neither API takes them there.
 */
export function secretServerUrls(endpointUrl: string): { soapUrl: string; baseUrl: string } {
  const url = new URL(endpointUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the Secret Server URL must be http(s)');
  url.search = '';
  url.hash = '';
  const path = url.pathname;
  if (ASMX.test(path)) {
    const basePath = path.replace(ASMX, '').replace(/\/+$/, '');
    return { soapUrl: `${url.origin}${path.replace(/\/+$/, '')}`, baseUrl: `${url.origin}${basePath}` };
  }
  const basePath = path.replace(/\/+$/, '');
  return { soapUrl: `${url.origin}${basePath}${SOAP_PATH}`, baseUrl: `${url.origin}${basePath}` };
}
