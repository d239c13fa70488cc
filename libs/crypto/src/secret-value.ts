import { createHash, timingSafeEqual } from 'node:crypto';

/** What a secret shows wherever it is printed, serialised or converted. */
export const SECRET_MARKER = '[secret]';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * A secret held in memory between parsing and use (a checked-out password, a vault API key, a client secret).
 * It never serialises: JSON (and so every pino line, whatever the field is called), `String()`, template
 * literals and `util.inspect` (console.log) all give `[secret]`. The value lives in a private field, so a
 * spread or `structuredClone` copies nothing of it (both give `{}`), and it is read only by `reveal()`, at the
 * point of use: a header being built, a hash being verified, a box being sealed.
 */
export class SecretValue {
  readonly #value: string;

  private constructor(value: string) {
    this.#value = value;
  }

  static of(value: string): SecretValue {
    return new SecretValue(value);
  }

  /** The secret itself. Every call is a place where it leaves this wrapper, so keep them few and at the edge. */
  reveal(): string {
    return this.#value;
  }

  /** Compared through digests in constant time, so neither the time taken nor the lengths tell anything. */
  equals(other: SecretValue | string): boolean {
    const theirs = typeof other === 'string' ? other : other.#value;
    const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
    return timingSafeEqual(digest(this.#value), digest(theirs));
  }

  /** Whether it holds nothing, the only thing about its content it answers without `reveal()`. */
  isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toJSON(): string {
    return SECRET_MARKER;
  }

  toString(): string {
    return SECRET_MARKER;
  }

  [Symbol.toPrimitive](): string {
    return SECRET_MARKER;
  }

  [INSPECT](): string {
    return SECRET_MARKER;
  }
}
