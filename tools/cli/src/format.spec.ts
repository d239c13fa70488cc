import type { DiagnosticCheck } from '@openecm/contracts';
import { describeError, formatDuration, parseDuration, renderChecks, summary, table } from './format';
import { ApiError, transportCode } from './gateway-client';

describe('format', () => {
  it('pads columns to their widest cell and shows missing values as -', () => {
    expect(table(['NAME', 'TYPE'], [['password-safe', 'password-safe'], ['ss', null]])).toBe(
      'NAME           TYPE\npassword-safe  password-safe\nss             -\n',
    );
  });

  it.each([
    ['90', 90],
    ['90s', 90],
    ['10m', 600],
    ['1h30m', 5400],
    ['2H', 7200],
    ['1d', 86_400],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'ten', '10x', '10m5', 'm10', '-5m'])('refuses "%s" as a duration', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });

  it('writes durations back in their shortest form', () => {
    expect([formatDuration(900), formatDuration(86_400), formatDuration(5430), formatDuration(0)]).toEqual(['15m', '24h', '1h30m30s', '0s']);
  });

  it('renders each step with its state, and for what went wrong the failing step and what to do', () => {
    const checks: DiagnosticCheck[] = [
      { id: 'nats', title: 'NATS', status: 'ok', detail: 'connected' },
      { id: 'vault:ps', title: 'Vault ps: Test Settings', status: 'fail', detail: 'connect failed', step: 'connect', remedy: 'check the URL' },
      { id: 'appliance', title: 'Appliance', status: 'info', detail: 'not configured', remedy: 'not shown for information' },
    ];
    const text = renderChecks(checks);
    expect(text.split('\n')).toEqual([
      'ok    NATS                     connected',
      'FAIL  Vault ps: Test Settings  connect failed',
      '                               failing step: connect',
      '                               → check the URL',
      'info  Appliance                not configured',
    ]);
    expect(summary(checks)).toBe('1 failed: not all is well');
    expect(summary([...checks, { id: 'x', title: 'x', status: 'warn', detail: '' }])).toBe('1 failed, 1 warning: not all is well');
    expect(summary([checks[0] as DiagnosticCheck, checks[2] as DiagnosticCheck])).toBe('all is well');
  });

  it('describes a gateway error by its detail, code, status and fields', () => {
    const error = new ApiError('invalid request body: level (Invalid option)', 400, 'VALIDATION_FAILED', [{ field: 'level', message: 'Invalid option' }]);
    expect(describeError(error)).toBe('error: invalid request body: level (Invalid option) (VALIDATION_FAILED, HTTP 400)\n  level: Invalid option\n');
    expect(describeError(new ApiError('cannot reach the gateway at http://x (ECONNREFUSED)', 0, 'ECONNREFUSED'))).toBe('error: cannot reach the gateway at http://x (ECONNREFUSED)\n');
  });
});

describe('transportCode', () => {
  it('finds the code along the cause chain, a timeout by its name, and else the innermost message', () => {
    expect(transportCode(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))).toBe('ECONNREFUSED');
    expect(transportCode(new DOMException('The operation timed out.', 'TimeoutError'))).toBe('ETIMEDOUT');
    expect(transportCode(Object.assign(new TypeError('fetch failed'), { cause: new Error('bad port') }))).toBe('bad port');
    expect(transportCode('nothing to go on')).toBe('network error');
  });
});
