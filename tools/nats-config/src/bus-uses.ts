import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BROADCASTS, EVENTS, SERVICE_NAMES, SUBJECTS, type ServiceName } from '@openecm/contracts';

/** How a piece of code uses a subject: what NATS must let its service do. */
export type UseKind = 'request' | 'answer' | 'broadcast' | 'answer-broadcast' | 'publish' | 'subscribe' | 'consume';

export interface BusUse {
  service: ServiceName;
  kind: UseKind;
  /** A subject of the contracts, or for `consume` the durable consumer's name. */
  subject: string;
  /** Relative to the repository root, with the line: where to look. */
  where: string;
}

/** The call shapes the code uses the bus through; each names its subject as a literal first (or second) argument. */
const CALL_SHAPES: Array<[UseKind, RegExp]> = [
  ['request', /\.request\(\s*'([^']+)'/g],
  ['answer', /@Handles\(\s*'([^']+)'/g],
  ['broadcast', /\.gather\(\s*'([^']+)'/g],
  ['answer-broadcast', /answerBroadcast\(\s*\w+\s*,\s*'([^']+)'/g],
  ['publish', /\.publish\(\s*'([^']+)'/g],
  ['publish', /publishEvent\(\s*[^,()]+,\s*'([^']+)'/g],
  ['subscribe', /\.subscribe\(\s*'([^']+)'/g],
];

/** Where a subject is only named as a type (`ReplyOf<'…'>`): no use of the bus. */
const TYPE_POSITION = /Of<\s*$/;

const KNOWN = new Set([...Object.keys(SUBJECTS), ...Object.keys(EVENTS), ...Object.keys(BROADCASTS)]);

export interface SourceFile {
  path: string;
  text: string;
}

function sources(dir: string, root: string): SourceFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

export interface ScanResult {
  uses: BusUse[];
  /** A contract subject written where none of the call shapes is: the scan cannot tell what it does. */
  unclassified: string[];
}

/** The bus uses in one service's files. */
export function scanFiles(service: ServiceName, files: readonly SourceFile[]): ScanResult {
  const uses: BusUse[] = [];
  const unclassified: string[] = [];
  for (const { path, text } of files) {
    const classified = new Set<number>();
    for (const [kind, shape] of CALL_SHAPES) {
      for (const match of text.matchAll(shape)) {
        const subject = match[1] as string;
        const at = (match.index ?? 0) + match[0].lastIndexOf(`'${subject}'`);
        classified.add(at);
        uses.push({ service, kind, subject, where: `${path}:${lineOf(text, at)}` });
      }
    }
    if (/consumeDurably\(/.test(text)) {
      const durable = /DURABLE_NAME\s*=\s*'([^']+)'/.exec(text)?.[1] ?? '(a durable name this scan cannot read)';
      uses.push({ service, kind: 'consume', subject: durable, where: `${path}:${lineOf(text, text.indexOf('consumeDurably('))}` });
    }
    for (const match of text.matchAll(/'([a-z][a-z0-9.-]*)'/g)) {
      const at = match.index ?? 0;
      if (!KNOWN.has(match[1] as string) || classified.has(at) || TYPE_POSITION.test(text.slice(Math.max(0, at - 20), at))) continue;
      // an event named elsewhere is one a consumer handles (its stream delivered it) or parses: no use of the bus
      if ((match[1] as string) in EVENTS) continue;
      unclassified.push(`${path}:${lineOf(text, at)} names ${match[1]}`);
    }
  }
  return { uses, unclassified };
}

/**
 * Every bus use of every service: its own code (apps/<service>/src) and the service kit every app runs
 * (libs/service-kit: the ops broadcasts each instance answers).
 */
export function scanRepository(root: string): ScanResult {
  const shared = sources(join(root, 'libs/service-kit/src'), root);
  const result: ScanResult = { uses: [], unclassified: [] };
  for (const service of SERVICE_NAMES) {
    const scanned = scanFiles(service, [...sources(join(root, 'apps', service, 'src'), root), ...shared]);
    result.uses.push(...scanned.uses);
    result.unclassified.push(...scanned.unclassified);
  }
  result.unclassified = [...new Set(result.unclassified)];
  return result;
}
