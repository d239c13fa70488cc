import pino from 'pino';
import { Writable } from 'node:stream';
import { LogLevelSwitch } from './log-level';

function capture(level: string): { lines: Array<Record<string, unknown>>; logger: pino.Logger } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level }, stream) };
}

describe('LogLevelSwitch', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('switches to debug at once and returns to the configured level when the time is up', () => {
    const { lines, logger } = capture('warn');
    const level = new LogLevelSwitch(logger);
    logger.debug('before');
    expect(level.set('debug', 60_000)).toEqual({ level: 'debug', revertsAt: new Date('2030-01-01T00:01:00Z') });
    logger.debug('during');
    jest.advanceTimersByTime(59_999);
    expect(level.level).toBe('debug');
    jest.advanceTimersByTime(1);
    logger.debug('after');
    expect(level.level).toBe('warn');
    expect(level.revertsAt).toBeNull();
    expect(lines.map((l) => l['msg'])).toEqual(['log level switched', 'during', 'log level back to the configured one']);
  });

  it('announces a switch while the more verbose level is active, so the line shows', () => {
    const { lines, logger } = capture('info');
    const level = new LogLevelSwitch(logger);
    level.set('error', 1000);
    jest.advanceTimersByTime(1000);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'log level switched', from: 'info', to: 'error' }),
      expect.objectContaining({ msg: 'log level back to the configured one', from: 'error', to: 'info' }),
    ]);
  });

  it('lets a new switch replace the previous one and its revert time', () => {
    const { logger } = capture('info');
    const level = new LogLevelSwitch(logger);
    level.set('debug', 1000);
    level.set('trace', 5000);
    jest.advanceTimersByTime(1000);
    expect(level.level).toBe('trace');
    jest.advanceTimersByTime(4000);
    expect(level.level).toBe('info');
  });

  it('schedules nothing when switched to the configured level, and cancels a pending revert', () => {
    const { logger } = capture('info');
    const level = new LogLevelSwitch(logger);
    level.set('debug', 1000);
    expect(level.set('info', 1000)).toEqual({ level: 'info', revertsAt: null });
    expect(jest.getTimerCount()).toBe(0);
    level.set('debug', 1000);
    level.cancel();
    expect(jest.getTimerCount()).toBe(0);
    expect(level.level).toBe('debug');
  });
});
