import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Field names whose values are never printed, wherever they sit in a logged object: the second line of
 * defence. The first is structural: secrets are held as `SecretValue` (libs/crypto), which serialises as
 * `[secret]` whatever field it is logged under, and pino writes every object through JSON. This list catches a
 * secret that was left a plain string by mistake. The pino instrumentation adds `trace_id` and `span_id` to
 * every line written inside a span.
 */
const REDACT = [
  'password',
  'secret',
  'apiKey',
  'clientSecret',
  'token',
  'access_token',
  'authorization',
  'cookie',
  'value',
  'requestId',
  // HashiCorp Vault: an AppRole secret id, a token as Vault answers it, a lease id
  'secretId',
  'secret_id',
  'client_token',
  'lease_id',
].flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** `destination` defaults to stdout; a test passes a stream to read the lines back. */
export function createLogger(service: string, level: string = process.env['LOG_LEVEL'] ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

type Level = 'info' | 'warn' | 'error' | 'debug' | 'trace';

/**
 * Nest's logger interface on top of pino, so framework messages are JSON with trace ids too. Nest passes
 * `(message, ...params, context)`: an object message becomes fields, a string param the message text.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    const context = params.length > 0 ? String(params[params.length - 1]) : undefined;
    const text = params.slice(0, -1).find((p): p is string => typeof p === 'string');
    if (typeof message === 'object' && message !== null) {
      const fields = message as Record<string, unknown>;
      const msg = text ?? (typeof fields['msg'] === 'string' ? fields['msg'] : undefined);
      this.logger[level]({ context, ...fields }, msg);
    } else if (level === 'error' && text) {
      this.logger[level]({ context, stack: text }, String(message));
    } else {
      this.logger[level]({ context }, String(message));
    }
  }
}

/**
 * What may be logged of an unexpected error: its name and the frames of its stack, never its message (the
 * first stack line repeats it), since a message may echo input such as a secret.
 */
export function describeUnexpected(error: unknown): { name: string; stack?: string } {
  if (error instanceof Error) return { name: error.name, stack: error.stack?.split('\n').slice(1, 6).join('\n') };
  return { name: typeof error };
}
