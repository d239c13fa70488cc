import { OpenEcmError } from '@openecm/contracts';
import { safeBodyError } from './http-setup';

describe('safeBodyError', () => {
  it('replaces a JSON syntax error, whose message quotes the body, with a fixed one', () => {
    const parserError = Object.assign(new SyntaxError('Unexpected token, "{"secret":"hunter2"" is not valid JSON'), {
      type: 'entity.parse.failed',
      status: 400,
    });
    const mapped = safeBodyError(parserError);
    expect(mapped).toBeInstanceOf(OpenEcmError);
    expect((mapped as OpenEcmError).code).toBe('VALIDATION_FAILED');
    expect((mapped as OpenEcmError).message).not.toContain('hunter2');
  });

  it('answers an oversized body as a validation failure naming the limit', () => {
    const mapped = safeBodyError(Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413 }));
    expect((mapped as OpenEcmError).message).toBe('the request body is larger than 64 kb');
  });

  it('leaves other errors alone', () => {
    const other = new Error('boom');
    expect(safeBodyError(other)).toBe(other);
    expect(safeBodyError(undefined)).toBeUndefined();
  });
});
