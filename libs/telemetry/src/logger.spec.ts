import pino from 'pino';
import { Writable } from 'node:stream';
import { SecretValue } from '@openecm/crypto';
import { PinoNestLogger, createLogger, describeUnexpected } from './logger';

function capture(): { lines: Array<Record<string, unknown>>; logger: pino.Logger } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'debug', redact: { paths: ['password', '*.password', 'secret', '*.secret', 'value', '*.value'], censor: '[redacted]' } }, stream) };
}

describe('PinoNestLogger', () => {
  it('logs object messages as fields with the text and context Nest passes', () => {
    const { lines, logger } = capture();
    const nest = new PinoNestLogger(logger);
    nest.warn({ vault: 'ps', attempt: 2 }, 'retrying', 'password-safe');
    nest.error('boom', 'Error: boom\n    at x', 'http');
    nest.log('started', 'NestApplication');
    expect(lines[0]).toMatchObject({ vault: 'ps', attempt: 2, msg: 'retrying', context: 'password-safe' });
    expect(lines[1]).toMatchObject({ msg: 'boom', context: 'http', stack: expect.stringContaining('at x') });
    expect(lines[2]).toMatchObject({ msg: 'started', context: 'NestApplication' });
  });

  it('redacts secret fields wherever they sit', () => {
    const { lines, logger } = capture();
    new PinoNestLogger(logger).log({ secret: { type: 'password', value: 'hunter2' }, password: 'p' }, 'x');
    expect(JSON.stringify(lines)).not.toMatch(/hunter2|"p"/);
  });

  it('prints a SecretValue as the marker whatever the field is called, the field-name list aside', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger('vault-adapters', 'debug', stream);
    const canary = SecretValue.of('canary-hunter2');
    logger.debug({ note: canary, nested: { remark: canary }, list: [canary] }, 'checked out');
    new PinoNestLogger(logger).debug({ comment: canary }, `held ${canary}`, 'password-safe');
    expect(lines).toHaveLength(2);
    expect(lines.join('')).not.toContain('canary-hunter2');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ note: '[secret]', nested: { remark: '[secret]' }, list: ['[secret]'] });
    expect(JSON.parse(lines[1] as string)).toMatchObject({ comment: '[secret]', msg: 'held [secret]', context: 'password-safe' });
  });

  it('creates JSON loggers that carry the service name', () => {
    expect(createLogger('token-cache', 'silent').bindings()).toMatchObject({ service: 'token-cache' });
  });
});

describe('describeUnexpected', () => {
  it('keeps the name and the frames but never the message, which may echo a secret', () => {
    const described = describeUnexpected(new TypeError('cannot parse password=hunter2'));
    expect(described.name).toBe('TypeError');
    expect(described.stack).toContain('logger.spec.ts');
    expect(JSON.stringify(described)).not.toContain('hunter2');
    expect(describeUnexpected('hunter2')).toEqual({ name: 'string' });
  });
});
