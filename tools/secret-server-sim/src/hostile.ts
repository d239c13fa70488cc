import { SOAP_ENVELOPE_NS, SS_NS } from './soap';

/**
 * Answers a broken or hostile Secret Server (or whatever sits in front of it) could give, each a
 * well-formed SOAP envelope for the operation asked that costs a reader far more than its size suggests,
 * or is simply too large:
 * - `attributes`: 50 000 attributes on the result element, 478 KB, as seen in the field;
 * - `namespaces`: 50 nested elements in the result each declaring 60 namespace prefixes, around 10 000
 *   elements that use them, within 64 levels (a reader that copies the scope per element copies 30 million
 *   bindings);
 * - `oversized`: 5 MiB, more than a client should take for one answer.
 */
export const HOSTILE_ANSWERS = ['attributes', 'namespaces', 'oversized'] as const;
export type HostileAnswer = (typeof HOSTILE_ANSWERS)[number];

export const OVERSIZED_BYTES = 5 * 1024 * 1024;
const ATTRIBUTES = 50_000;
const SCOPE_LEVELS = 50;
const PREFIXES_PER_LEVEL = 60;
const SCOPED_LEAVES = 10_000;

/** The answer's text; `operation` is the SOAP operation asked, if any. */
export function hostileAnswer(kind: HostileAnswer, operation: string | undefined): string {
  const op = operation ?? 'Unknown';
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP_ENVELOPE_NS}"><soap:Body><${op}Response xmlns="${SS_NS}">${result(kind, op)}</${op}Response></soap:Body></soap:Envelope>`;
}

function result(kind: HostileAnswer, op: string): string {
  switch (kind) {
    case 'attributes':
      return `<${op}Result${range(ATTRIBUTES, (i) => ` a${i}=""`)}><Errors /></${op}Result>`;
    case 'namespaces': {
      const open = range(SCOPE_LEVELS, (l) => `<Scope${range(PREFIXES_PER_LEVEL, (i) => ` xmlns:l${l}n${i}="urn:hostile:${l}:${i}"`)}>`);
      const leaves = range(SCOPED_LEAVES, (i) => `<l${i % SCOPE_LEVELS}n0:Leaf />`);
      return `<${op}Result><Errors />${open}${leaves}${'</Scope>'.repeat(SCOPE_LEVELS)}</${op}Result>`;
    }
    case 'oversized':
      return `<${op}Result><Errors /><Padding>${'x'.repeat(OVERSIZED_BYTES)}</Padding></${op}Result>`;
  }
}

function range(count: number, item: (i: number) => string): string {
  return Array.from({ length: count }, (_, i) => item(i)).join('');
}
