import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/**
 * Field names whose values are never printed, wherever they sit in a logged object. The pino
 * instrumentation adds `trace_id` and `span_id` to every line written inside a span.
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
].flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export function createLogger(service: string, level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** Nest's logger interface on top of pino, so framework messages are JSON with trace ids too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.write('info', message, context);
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, stack: trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }

  private write(level: 'info' | 'warn' | 'debug' | 'trace', message: unknown, context?: string): void {
    if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message });
    else this.logger[level]({ context }, String(message));
  }
}
