import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { SECRET_MARKER, SecretValue } from './secret-value';

const CANARY = 'canary-Pa55w0rd!';

describe('SecretValue', () => {
  const secret = SecretValue.of(CANARY);

  it('is read through reveal() only', () => {
    expect(secret.reveal()).toBe(CANARY);
  });

  it('serialises as the marker, wherever it sits', () => {
    expect(JSON.stringify(secret)).toBe(`"${SECRET_MARKER}"`);
    expect(JSON.stringify({ note: secret, nested: [{ x: secret }] })).toBe(`{"note":"${SECRET_MARKER}","nested":[{"x":"${SECRET_MARKER}"}]}`);
  });

  it('converts to the marker as a string, in a template literal and by concatenation', () => {
    expect(String(secret)).toBe(SECRET_MARKER);
    expect(`${secret}`).toBe(SECRET_MARKER);
    expect('x' + secret).toBe(`x${SECRET_MARKER}`);
    expect(secret.toString()).toBe(SECRET_MARKER);
  });

  it('inspects as the marker, alone and inside objects, and console.log formatting prints nothing else', () => {
    expect(inspect(secret)).toBe(SECRET_MARKER);
    expect(inspect({ note: secret }, { depth: 5, showHidden: true })).not.toContain(CANARY);
    // console.log's own formatting, onto a stream read back here
    const written: string[] = [];
    const stdout = new Writable({
      write(chunk, _enc, done) {
        written.push(String(chunk));
        done();
      },
    });
    const out = new Console({ stdout });
    out.log(secret, { note: secret });
    out.log('%s %o %O %j', secret, secret, { note: secret }, { note: secret });
    expect(written.join('')).toContain(SECRET_MARKER);
    expect(written.join('')).not.toContain(CANARY);
  });

  it('keeps the value out of spreads, keys and structuredClone (both give an empty plain object)', () => {
    expect({ ...secret }).toEqual({});
    expect(Object.keys(secret)).toEqual([]);
    expect(Object.getOwnPropertyNames(secret)).toEqual([]);
    const clone = structuredClone(secret) as unknown;
    expect(clone).not.toBeInstanceOf(SecretValue);
    expect(JSON.stringify(clone)).toBe('{}');
  });

  it('compares without revealing: equal values, other values and other lengths', () => {
    expect(secret.equals(SecretValue.of(CANARY))).toBe(true);
    expect(secret.equals(CANARY)).toBe(true);
    expect(secret.equals('canary-Pa55w0rd?')).toBe(false);
    expect(secret.equals('short')).toBe(false);
    expect(SecretValue.of('').isEmpty()).toBe(true);
    expect(secret.isEmpty()).toBe(false);
    // no length, no characters: only reveal() gives them
    expect((secret as unknown as { length?: number }).length).toBeUndefined();
    expect(secret).not.toBe(SecretValue.of(CANARY));
  });
});
