import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SignInRedaction, disabledInstrumentations, redactUrl } from './register';

describe('redactUrl', () => {
  it('hides Password Safe request ids, which are bearer capabilities, in paths and full URLs', () => {
    expect(redactUrl('/BeyondTrust/api/public/v3/Credentials/124?type=password')).toBe('/BeyondTrust/api/public/v3/Credentials/{id}?type=password');
    expect(redactUrl('https://ps.example/BeyondTrust/api/public/v3/Requests/9/Checkin')).toBe('https://ps.example/BeyondTrust/api/public/v3/Requests/{id}/Checkin');
    expect(redactUrl('/v3/Requests/Release/77')).toBe('/v3/Requests/Release/{id}');
    expect(redactUrl('/v3/ManagedSystems')).toBe('/v3/ManagedSystems');
  });

  it("hides the authorization code and state of the console's sign-in callback", () => {
    expect(redactUrl('/console/auth/callback?code=abc.DEF-123&state=xyz&iss=https%3A%2F%2Fidp')).toBe('/console/auth/callback?code={redacted}&state={redacted}&iss=https%3A%2F%2Fidp');
    expect(redactUrl('http://gw/console/auth/callback?session_state=s1&code=c')).toBe('http://gw/console/auth/callback?session_state={redacted}&code={redacted}');
    expect(redactUrl('/api/v1/leases?state=active&user=bob')).toBe('/api/v1/leases?state=active&user=bob');
  });

  it('leaves no code or state on any span about the callback, whatever attribute holds the URL', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SignInRedaction(), new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('test');
    const span = tracer.startSpan('request', { attributes: { 'url.full': '/console/auth/callback?code=secret-code&state=s', 'http.route': '/console/auth/callback' } });
    span.setAttribute('url.query', 'code=secret-code&state=s&iss=x');
    span.end();
    const other = tracer.startSpan('list', { attributes: { 'url.full': '/api/v1/leases?state=active' } });
    other.end();
    await provider.forceFlush();
    const [callback, list] = exporter.getFinishedSpans();
    expect(callback?.attributes).toMatchObject({ 'url.full': '/console/auth/callback?code={redacted}&state={redacted}', 'url.query': 'code={redacted}&state={redacted}&iss=x' });
    expect(list?.attributes['url.full']).toBe('/api/v1/leases?state=active');
  });
});

describe('startTelemetry', () => {
  /** Starts telemetry in a process of its own and answers whether the module was patched. */
  const patchedIn = (env: Record<string, string>, module: 'http' | 'pg' | 'ioredis'): boolean => {
    const probes: Record<string, string> = {
      http: "Boolean(require('node:http').Server.prototype.emit.__wrapped || require('node:http').request.__wrapped)",
      pg: "Boolean(require('pg').Client.prototype.query.__wrapped)",
      ioredis: "Boolean(require('ioredis').prototype.sendCommand.__wrapped)",
    };
    const script = [
      "require('@swc-node/register');",
      "const { startTelemetry } = require('./libs/telemetry/src/register.ts');",
      "startTelemetry('probe');",
      `process.stdout.write(String(${probes[module]}));`,
    ].join('\n');
    const out = execFileSync(process.execPath, ['-e', script], { cwd: resolve(__dirname, '../../..'), env: { ...process.env, ...env }, encoding: 'utf8' });
    return out.trim().endsWith('true');
  };

  it('instruments pg when tracing is on, and patches nothing at all with OTEL_SDK_DISABLED=true', () => {
    expect(patchedIn({ OTEL_SDK_DISABLED: 'false' }, 'pg')).toBe(true);
    expect(patchedIn({ OTEL_SDK_DISABLED: 'TRUE' }, 'pg')).toBe(false);
  });

  it("never patches Node's HTTP server or client: the gateway makes its server spans itself, calls go through undici", () => {
    expect(patchedIn({}, 'http')).toBe(false);
  });

  it('leaves out each instrumentation OTEL_NODE_DISABLED_INSTRUMENTATIONS names, and only those', () => {
    expect(patchedIn({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' }, 'pg')).toBe(false);
    expect(patchedIn({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' }, 'ioredis')).toBe(true);
    expect(patchedIn({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: ' PG , ioredis' }, 'ioredis')).toBe(false);
    expect(patchedIn({}, 'pg')).toBe(true);
  });

  it('refuses an instrumentation name it does not know, naming it', () => {
    expect(() => disabledInstrumentations({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http,mongodb' })).toThrow(/unknown instrumentation mongodb/);
    expect([...disabledInstrumentations({})]).toEqual([]);
  });
});
