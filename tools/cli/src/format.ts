import type { CheckStatus, DiagnosticCheck } from '@openecm/contracts';
import { ApiError } from './gateway-client';

/** Columns padded to their widest cell; a missing value shows as `-`. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((r) => headers.map((_, i) => (r[i] === null || r[i] === undefined || r[i] === '' ? '-' : String(r[i]))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90`, `90s`, `10m`, `1h30m`, `2h`: a duration in whole seconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const parts = [...trimmed.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw new Error(`not a duration: "${text}" (use e.g. 90s, 10m, 1h30m)`);
  }
  return parts.reduce((total, [, n, unit]) => total + Number(n) * (UNITS[unit as string] ?? 0), 0);
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}

const LABELS: Record<CheckStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', info: 'info' };

/** One line per step with its state, then the step that failed and what to do, indented below it. */
export function renderChecks(checks: readonly DiagnosticCheck[]): string {
  const width = Math.max(...checks.map((c) => c.title.length));
  return checks
    .map((c) => {
      const lines = [`${LABELS[c.status].padEnd(4)}  ${c.title.padEnd(width)}  ${c.detail}`];
      const indent = ' '.repeat(6 + width + 2);
      if (c.step && c.status !== 'ok') lines.push(`${indent}failing step: ${c.step}`);
      if (c.remedy && c.status !== 'ok' && c.status !== 'info') lines.push(`${indent}→ ${c.remedy}`);
      return lines.join('\n');
    })
    .join('\n');
}

export function summary(checks: readonly DiagnosticCheck[]): string {
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  if (failed === 0 && warned === 0) return 'all is well';
  const parts = [failed ? `${failed} failed` : '', warned ? `${warned} warning${warned === 1 ? '' : 's'}` : ''].filter(Boolean);
  return `${parts.join(', ')}: not all is well`;
}

/** An error as a person reads it: the gateway's detail, its code, and each field it names. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const where = error.status ? ` (${error.code}, HTTP ${error.status})` : '';
    const fields = error.fields.map((f) => `\n  ${f.field}: ${f.message}`).join('');
    return `error: ${error.message}${where}${fields}\n`;
  }
  return `error: ${error instanceof Error ? error.message : String(error)}\n`;
}
