import { EVENTS } from './events';
import { BROADCASTS, worstStatus } from './ops';
import { InjectionRequest, SUBJECTS, SUBJECT_GRAMMAR, qualify } from './subjects';
import { ERROR_CODES, OpenEcmError } from './errors';
import { parseOrThrow } from './validation';

describe('contracts', () => {
  it.each([...Object.keys(SUBJECTS), ...Object.keys(EVENTS), ...Object.keys(BROADCASTS)])('%s follows <domain>.<entity>.<verb>.v<N>', (s) => {
    expect(s).toMatch(SUBJECT_GRAMMAR);
  });

  it('keeps request subjects and event subjects apart, so a stream never captures a request', () => {
    const requests = new Set(Object.keys(SUBJECTS));
    for (const event of Object.keys(EVENTS)) expect(requests.has(event)).toBe(false);
  });

  it('keeps broadcast subjects apart from request and event subjects, so no queue group ever shares one', () => {
    const others = new Set([...Object.keys(SUBJECTS), ...Object.keys(EVENTS)]);
    for (const broadcast of Object.keys(BROADCASTS)) expect(others.has(broadcast)).toBe(false);
  });

  it('bounds the time a switched log level holds and defaults it', () => {
    const schema = BROADCASTS['ops.log-level.set.v1'].request;
    expect(schema.parse({ level: 'debug' }).revertAfterSeconds).toBe(900);
    expect(schema.safeParse({ level: 'debug', revertAfterSeconds: 0 }).success).toBe(false);
    expect(schema.safeParse({ level: 'debug', revertAfterSeconds: 86_401 }).success).toBe(false);
    expect(schema.safeParse({ level: 'verbose' }).success).toBe(false);
    expect(schema.safeParse({ level: 'debug', service: 'no-such-service' }).success).toBe(false);
  });

  it('rates a diagnostics report by its worst check, information counting as well', () => {
    expect(worstStatus([{ status: 'ok' }, { status: 'info' }])).toBe('ok');
    expect(worstStatus([{ status: 'ok' }, { status: 'warn' }, { status: 'info' }])).toBe('warn');
    expect(worstStatus([{ status: 'warn' }, { status: 'fail' }])).toBe('fail');
  });

  it('qualifies subjects with the namespace only when one is set', () => {
    expect(qualify('vault.credentials.list.v1', 'tabc')).toBe('tabc.vault.credentials.list.v1');
    expect(qualify('vault.credentials.list.v1', undefined)).toBe('vault.credentials.list.v1');
  });

  it('names unknown and invalid fields in a validation error', () => {
    const schema = InjectionRequest;
    let caught: unknown;
    try {
      parseOrThrow(schema, { credentialId: 'nope', user: 'alice', endpoint: 'srv', sessionId: 's', extra: 1 }, 'injection');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OpenEcmError);
    const err = caught as OpenEcmError;
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.status).toBe(400);
    expect(err.fields?.map((f) => f.field).sort()).toEqual(['credentialId', 'extra']);
  });

  it('gives every error code an HTTP status', () => {
    for (const status of Object.values(ERROR_CODES)) expect(status).toBeGreaterThanOrEqual(400);
  });
});
