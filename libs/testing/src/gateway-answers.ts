import type { ObservedAnswer } from './openapi-conformance';

const gateways = new Set<string>();

/** Marks a gateway whose answers the recorder keeps; `launchSystem` calls it for the gateway it starts. */
export function watchGateway(baseUrl: string): void {
  gateways.add(new URL(baseUrl).origin);
}

export function watchedGateways(): number {
  return gateways.size;
}

function requestOf(input: Parameters<typeof fetch>[0], init: RequestInit | undefined): { url: string; method: string } {
  if (input instanceof Request) return { url: input.url, method: init?.method ?? input.method };
  return { url: String(input), method: init?.method ?? 'GET' };
}

/**
 * Wraps the global fetch so every answer from a watched gateway reaches `listener` (status, content type,
 * body as text) before the caller sees it; the caller still reads the body. Returns the function that
 * puts the original fetch back.
 */
export function recordGatewayAnswers(listener: (answer: ObservedAnswer) => void): () => void {
  const original = globalThis.fetch;
  const recording: typeof fetch = async (input, init) => {
    const response = await original(input, init);
    const { url, method } = requestOf(input, init);
    if (gateways.has(new URL(url).origin)) {
      const body = await response.clone().text();
      listener({ method, url, status: response.status, contentType: response.headers.get('content-type'), body });
    }
    return response;
  };
  globalThis.fetch = recording;
  return () => {
    if (globalThis.fetch === recording) globalThis.fetch = original;
  };
}
