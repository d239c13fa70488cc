import type { AuditRecord } from '@openecm/contracts';
import { Keyring } from '@openecm/crypto';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The HKDF label the chain's HMAC keys are derived under from AUDIT_HMAC_KEYS. */
const CHAIN_LABEL = 'openecm audit chain v1';

/** What the HMAC covers: the record as stored, without its chain columns. */
export type ChainedFields = Omit<AuditRecord, 'chained'>;

/** JSON with object keys sorted at every depth, so the same record always yields the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The chain's keys by id; the active one links new records, every one verifies what it linked. */
export class ChainKeys {
  private constructor(
    private readonly keys: Map<string, Buffer>,
    readonly activeId: string,
  ) {}

  static parse(spec: string): ChainKeys {
    const derived = Keyring.parse(spec).deriveMaterial(CHAIN_LABEL);
    const active = derived.find((k) => k.active);
    if (!active) throw new Error('AUDIT_HMAC_KEYS has no active key');
    return new ChainKeys(new Map(derived.map((k) => [k.id, k.material])), active.id);
  }

  has(id: string): boolean {
    return this.keys.has(id);
  }

  /** HMAC-SHA256 over the previous link's HMAC, the record's seq and its canonical JSON, as hex. */
  link(keyId: string, prevHmac: string, record: ChainedFields): string {
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`no audit chain key "${keyId}"`);
    return createHmac('sha256', key).update(`${prevHmac}\n${record.seq}\n${canonicalJson(record)}`).digest('hex');
  }

  matches(keyId: string, prevHmac: string, record: ChainedFields, hmac: string): boolean {
    const expected = Buffer.from(this.link(keyId, prevHmac, record), 'hex');
    const stored = Buffer.from(hmac, 'hex');
    return stored.length === expected.length && timingSafeEqual(stored, expected);
  }
}

/** A chained record as the verification reads it, in chain order. */
export interface ChainLink {
  record: ChainedFields;
  position: string;
  keyId: string;
  prevHmac: string;
  hmac: string;
}

export type ChainProblem = { problem: 'changed' | 'removed' | 'reordered' | 'unknown-key'; seq: string; position: string; detail: string };

/**
 * Checks links in chain order, carrying what it knows from one batch to the next. Each link must follow the
 * previous position without a gap (else records were removed), its HMAC must match its own content and the
 * predecessor it names (else it was changed), and that predecessor must be the link before it (else records
 * were moved out of their place).
 */
export class ChainWalker {
  private lastPosition = 0n;
  private lastHmac = '';
  checked = 0;

  constructor(private readonly keys: ChainKeys) {}

  get position(): string {
    return this.lastPosition.toString();
  }

  get hmac(): string {
    return this.lastHmac;
  }

  next(link: ChainLink): ChainProblem | undefined {
    const { record, keyId } = link;
    const position = BigInt(link.position);
    const at = { seq: record.seq, position: link.position };
    if (position !== this.lastPosition + 1n) {
      const missing = position - this.lastPosition - 1n;
      return { problem: 'removed', ...at, detail: `${missing} record(s) missing from the chain before position ${position}` };
    }
    if (!this.keys.has(keyId)) return { problem: 'unknown-key', ...at, detail: `linked with key "${keyId}", which AUDIT_HMAC_KEYS does not hold` };
    if (!this.keys.matches(keyId, link.prevHmac, record, link.hmac)) {
      return { problem: 'changed', ...at, detail: `record ${record.seq} is not what was chained` };
    }
    if (link.prevHmac !== this.lastHmac) {
      return { problem: 'reordered', ...at, detail: `record ${record.seq} was chained after another record than the one now before it` };
    }
    this.lastPosition = position;
    this.lastHmac = link.hmac;
    this.checked += 1;
    return undefined;
  }
}
