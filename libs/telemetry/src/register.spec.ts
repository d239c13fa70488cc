import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SignInRedaction, redactUrl } from './register';

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
