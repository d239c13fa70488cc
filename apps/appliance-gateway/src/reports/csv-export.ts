import { stringify } from 'csv-stringify';
import type { Response } from 'express';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

/** Resolves when the stream may take more, or when the client went away (then nothing will drain it). */
function drainedOrGone(csv: Readable & { once(event: 'drain', listener: () => void): unknown }, res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      csv.off('drain', done);
      res.off('close', done);
      resolve();
    };
    csv.once('drain', done);
    res.once('close', done);
  });
}

/**
 * A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage return first) gets a
 * leading `'`, which spreadsheets show as text: a user name or endpoint chosen by an attacker (`=HYPERLINK(…)`)
 * must not execute on the auditor's machine that opens the export (OWASP's CSV injection advice).
 */
export function spreadsheetSafe(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Writes every row of a grid as CSV, one keyset page (one NATS request) at a time, each page written as it
 * arrives: the first bytes leave before the last page is read, and only one page is ever held. The first page is
 * asked before the head is sent, so a failure to start is still a problem answer; a failure later cuts the
 * connection (a truncated file must not look complete).
 */
export async function streamCsv<T extends object>(res: Response, name: string, columns: readonly string[], fetch: (cursor: string | null) => Promise<Page<T>>): Promise<void> {
  let page = await fetch(null);
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${name}.csv"`);
  res.setHeader('Cache-Control', 'no-store');
  const csv = stringify({
    header: true,
    columns: [...columns],
    cast: {
      string: (v) => spreadsheetSafe(v),
      boolean: (v) => (v ? 'true' : 'false'),
      object: (v) => JSON.stringify(v),
      date: (v) => v.toISOString(),
    },
  });
  csv.pipe(res);
  try {
    for (;;) {
      for (const row of page.items) {
        if (!csv.write(row)) await drainedOrGone(csv, res);
        if (res.destroyed) break;
      }
      // a client that went away stops the export: no further page is asked for
      if (!page.nextCursor || res.destroyed) break;
      page = await fetch(page.nextCursor);
    }
    if (res.destroyed) {
      csv.destroy();
      return;
    }
    csv.end();
    await Promise.race([once(res, 'finish'), once(res, 'close')]);
  } catch {
    csv.destroy();
    res.destroy();
  }
}
