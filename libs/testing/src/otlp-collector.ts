import { createServer, type Server } from 'node:http';

export interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
}

interface OtlpJson {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: Record<string, unknown> }> };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        startTimeUnixNano?: string | number;
        endTimeUnixNano?: string | number;
        attributes?: Array<{ key: string; value: Record<string, unknown> }>;
      }>;
    }>;
  }>;
}

const valueOf = (v: Record<string, unknown>): unknown => Object.values(v)[0];

/** A minimal OTLP/HTTP (JSON) trace receiver, so tests can see the spans every process exports. */
export class OtlpCollector {
  readonly spans: CollectedSpan[] = [];
  private readonly seen = new Set<string>();
  /** Spans that arrived again (an export retried), kept once. */
  duplicates = 0;
  /**
   * While true, exports are answered and dropped unread: under load a benchmark measures the broker, whose
   * collector runs elsewhere in a deployment, not this one parsing and keeping every span beside it.
   */
  discarding = false;
  /** Exports dropped unread. */
  discarded = 0;
  private server?: Server;

  async start(port: number): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces' && this.discarding) {
          this.discarded += 1;
        } else if (req.url === '/v1/traces') {
          try {
            this.ingest(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson);
          } catch {
            res.writeHead(400).end();
            return;
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${port}`;
  }

  private ingest(body: OtlpJson): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = String(valueOf(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? {}) ?? 'unknown');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          // an exporter that retried an export whose answer it missed sends its spans again: one is kept
          const id = `${s.traceId}/${s.spanId}`;
          if (this.seen.has(id)) {
            this.duplicates += 1;
            continue;
          }
          this.seen.add(id);
          this.spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            kind: s.kind,
            startNs: BigInt(s.startTimeUnixNano ?? 0),
            endNs: BigInt(s.endTimeUnixNano ?? 0),
            attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
          });
        }
      }
    }
  }

  trace(traceId: string): CollectedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async stop(): Promise<void> {
    // exporters keep their connections alive; close them too, or the server never finishes closing
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
