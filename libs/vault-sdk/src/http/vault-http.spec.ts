import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  VaultHttp,
  VaultTransportError,
  isRetryableStatus,
  isTlsFailure,
  retryDelayMs,
  transportErrorCode,
  DEFAULT_MAX_BODY_BYTES,
  type VaultHttpCall,
  type VaultHttpOptions,
} from './vault-http';

/** What the test server does with one request: drop the connection, or answer. */
type Step = 'drop' | { status: number; body?: string | Buffer; headers?: Record<string, string | string[]> };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface TestServer {
  url: string;
  seen: Seen[];
  /** Steps are used up in order; once none are left every request gets 200 "ok". */
  script: Step[];
  close(): Promise<void>;
}

const servers: Server[] = [];
const transports: VaultHttp[] = [];
const logLines: string[] = [];
const capture = (obj: object, msg: string): void => {
  logLines.push(`${msg} ${JSON.stringify(obj)}`);
};
const logger = { warn: capture, debug: capture };

function handler(seen: Seen[], script: Step[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const step = script.shift() ?? { status: 200, body: 'ok' };
      if (step === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(step.status, { 'content-type': 'text/plain; charset=utf-8', ...step.headers });
      res.end(step.body ?? '');
    });
  };
}

async function listen(server: Server, scheme: 'http' | 'https', seen: Seen[], script: Step[]): Promise<TestServer> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://${scheme === 'https' ? 'localhost' : '127.0.0.1'}:${port}`,
    seen,
    script,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function serve(script: Step[] = []): Promise<TestServer> {
  const seen: Seen[] = [];
  return listen(createServer(handler(seen, script)), 'http', seen, script);
}

function transport(extra: Partial<VaultHttpOptions> = {}): VaultHttp {
  const http = new VaultHttp({ vault: 'Test Vault', timeoutMs: 5_000, retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 }, logger, ...extra });
  transports.push(http);
  return http;
}

function get(url: string, extra: Partial<VaultHttpCall> = {}): VaultHttpCall {
  return { op: 'GET thing', method: 'GET', url: `${url}/thing`, ...extra };
}

async function failure(work: Promise<unknown>): Promise<VaultTransportError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VaultTransportError);
  return error as VaultTransportError;
}

beforeEach(() => {
  logLines.length = 0;
});

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

describe('answers', () => {
  it('sends method, headers and body, and answers status, headers, content type and text without a BOM', async () => {
    const server = await serve([{ status: 201, body: Buffer.from('\uFEFFhé', 'utf8'), headers: { 'set-cookie': ['a=1; Path=/', 'b=2'], 'content-type': 'application/json' } }]);
    const answer = await transport().send({ op: 'POST thing', method: 'POST', url: `${server.url}/thing?x=1`, headers: { 'x-test': 'yes' }, body: '{"a":1}' });
    expect(answer).toMatchObject({ status: 201, contentType: 'application/json', text: 'hé', attempts: 1, exhausted: false });
    expect(answer.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
    expect(server.seen).toEqual([expect.objectContaining({ method: 'POST', url: '/thing?x=1', body: '{"a":1}', headers: expect.objectContaining({ 'x-test': 'yes' }) })]);
  });

  it('hands back any status that is not retryable, at once', async () => {
    const server = await serve([{ status: 404, body: 'nope' }]);
    await expect(transport().send(get(server.url))).resolves.toMatchObject({ status: 404, text: 'nope', attempts: 1, exhausted: false });
  });
});

describe('retries', () => {
  it('retries 503 and 408 with backoff, then succeeds', async () => {
    const server = await serve([{ status: 503 }, { status: 503 }, { status: 408 }]);
    const answer = await transport().send(get(server.url));
    expect(answer).toMatchObject({ status: 200, text: 'ok', attempts: 4, exhausted: false });
    expect(server.seen).toHaveLength(4);
    const retries = logLines.filter((l) => l.startsWith('test vault call failed, retrying'));
    expect(retries).toHaveLength(3);
    expect(retries[0]).toContain('"op":"GET thing"');
    expect(retries[0]).toContain('"status":503');
  });

  it('retries a dropped connection, then succeeds', async () => {
    const server = await serve(['drop', 'drop']);
    await expect(transport().send(get(server.url))).resolves.toMatchObject({ status: 200, attempts: 3 });
    expect(server.seen).toHaveLength(3);
  });

  it('never retries other 4xx', async () => {
    for (const status of [400, 401, 403, 404, 409, 410, 429]) {
      const server = await serve([{ status }, { status }]);
      await expect(transport().send(get(server.url))).resolves.toMatchObject({ status, attempts: 1, exhausted: false });
      expect(server.script).toHaveLength(1);
    }
  });

  it('answers the last retryable status as exhausted when the attempt budget runs out', async () => {
    const server = await serve(Array.from({ length: 10 }, () => ({ status: 500 })));
    await expect(transport().send(get(server.url))).resolves.toMatchObject({ status: 500, attempts: 4, exhausted: true });
    expect(server.seen).toHaveLength(4);
  });

  it('leaves a status the caller handles itself alone', async () => {
    const server = await serve([{ status: 500, body: 'client fault' }, { status: 500, body: 'server trouble' }]);
    const noRetry = (status: number, text: string): boolean => status === 500 && text === 'client fault';
    await expect(transport().send(get(server.url, { noRetry }))).resolves.toMatchObject({ status: 500, attempts: 1, exhausted: false });
    await expect(transport({ retry: { attempts: 2, baseDelayMs: 1 } }).send(get(server.url, { noRetry }))).resolves.toMatchObject({ status: 200, attempts: 2 });
  });

  it('sends an unsafe call (a check-out) once when the vault may have seen it: neither a 5xx nor a lost answer is retried', async () => {
    const server = await serve([{ status: 503 }, 'drop']);
    const checkOut: VaultHttpCall = { op: 'POST check-out', method: 'POST', url: `${server.url}/check-out`, body: '{}', unsafe: true };
    await expect(transport().send(checkOut)).resolves.toMatchObject({ status: 503, attempts: 1, exhausted: false });
    await expect(failure(transport().send(checkOut))).resolves.toMatchObject({ failure: 'unreachable', details: { attempts: 1 } });
    expect(server.seen).toHaveLength(2);
  });

  it('tries an unsafe call again after a refused connection, which the vault cannot have seen', async () => {
    const server = await serve();
    await server.close();
    const error = await failure(transport({ retry: { attempts: 3, baseDelayMs: 1 } }).send({ ...get(server.url), unsafe: true }));
    expect(error.details).toMatchObject({ transportCode: 'ECONNREFUSED', attempts: 3 });
  });

  it("reports a closed port as 'unreachable' once the budget is spent, the transport code in the details only", async () => {
    const server = await serve();
    await server.close();
    const error = await failure(transport({ retry: { attempts: 2, baseDelayMs: 1 } }).send(get(server.url)));
    expect(error).toMatchObject({ failure: 'unreachable', details: { transportCode: 'ECONNREFUSED', attempts: 2 } });
    expect(error.details.status).toBeUndefined();
    expect(error.message).toBe('Test Vault unreachable during GET thing after 2 attempts');
    expect(logLines.some((line) => line.includes('unreachable') && line.includes('ECONNREFUSED'))).toBe(true);
  });

  it("times a silent server out as 'unreachable', in the same words as a closed port", async () => {
    const silent = createServer(() => undefined);
    const server = await listen(silent, 'http', [], []);
    const error = await failure(transport({ timeoutMs: 200, retry: { attempts: 1 } }).send(get(server.url)));
    expect(error).toMatchObject({ failure: 'unreachable', details: { attempts: 1 } });
    expect(error.details.transportCode).toBeDefined();
    silent.closeAllConnections();
    const closed = await serve();
    await closed.close();
    const refused = await failure(transport({ retry: { attempts: 1 } }).send(get(closed.url)));
    // a settings test must not tell an open-but-silent (or filtered) port from a closed one
    expect(refused.message).toBe(error.message);
  });

  it('waits a capped, jittered, exponentially growing time', () => {
    expect(retryDelayMs(1, 100, 1_000, () => 0)).toBe(50);
    expect(retryDelayMs(1, 100, 1_000, () => 1)).toBe(100);
    expect(retryDelayMs(3, 100, 1_000, () => 1)).toBe(400);
    expect(retryDelayMs(30, 100, 1_000, () => 0)).toBe(500);
    expect(retryDelayMs(30, 100, 1_000, () => 1)).toBe(1_000);
  });

  it('calls 5xx and 408 retryable, nothing else', () => {
    expect([408, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 204, 301, 400, 401, 403, 404, 409, 429].some(isRetryableStatus)).toBe(false);
  });
});

describe('transport error classification', () => {
  const withCode = (code: string, cause?: unknown): Error => Object.assign(new Error('x', { cause }), { code });

  it('finds the code along the cause chain; a timeout or abort reads as ETIMEDOUT', () => {
    expect(transportErrorCode(new Error('outer', { cause: withCode('ECONNRESET') }))).toBe('ECONNRESET');
    expect(transportErrorCode(new DOMException('late', 'TimeoutError'))).toBe('ETIMEDOUT');
    expect(transportErrorCode(Object.assign(new Error('stop'), { name: 'AbortError' }))).toBe('ETIMEDOUT');
    expect(transportErrorCode(new Error('plain'))).toBeUndefined();
    expect(transportErrorCode('not an error')).toBeUndefined();
  });

  it('tells certificate and handshake failures from other transport errors', () => {
    for (const code of ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO']) {
      expect(isTlsFailure(new Error('fetch failed', { cause: withCode(code) }))).toBe(true);
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_SOCKET']) {
      expect(isTlsFailure(withCode(code))).toBe(false);
    }
  });

  it('stops on a cause cycle', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    a.cause = new Error('b', { cause: a });
    expect(transportErrorCode(a)).toBeUndefined();
    expect(isTlsFailure(a)).toBe(false);
  });

  it("reports https to a plain HTTP port as 'tls', without retrying", async () => {
    const server = await serve();
    const error = await failure(transport().send(get(server.url.replace('http:', 'https:'))));
    expect(error).toMatchObject({ failure: 'tls', details: { attempts: 1 } });
    expect(error.message).toMatch(/^TLS failure during GET thing \(\S+\)$/);
    expect(server.seen).toHaveLength(0);
  });
});

describe('secrets', () => {
  it('keeps URLs, headers and bodies out of messages and log lines', async () => {
    const secrets = ['url-token-123', 'header-secret-456', 'body-password-789'];
    const call = (url: string): VaultHttpCall => ({
      op: 'POST login',
      method: 'POST',
      url: `${url}/login/url-token-123?key=url-token-123`,
      headers: { authorization: 'Bearer header-secret-456' },
      body: 'password=body-password-789',
    });
    const server = await serve([{ status: 503 }, 'drop', { status: 500 }, { status: 500 }]);
    await transport().send(call(server.url));
    const texts = [...logLines];
    await server.close();
    texts.push((await failure(transport({ retry: { attempts: 2, baseDelayMs: 1 } }).send(call(server.url)))).message);
    texts.push(...logLines);
    expect(logLines.length).toBeGreaterThan(4);
    for (const text of texts) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toContain('127.0.0.1');
    }
  });
});

const openssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

(openssl ? describe : describe.skip)('TLS', () => {
  let dir: string;
  let pems: { ca: string; key: string; cert: string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vault-http-tls-'));
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=OpenECM Test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    pems = { ca: read('ca.crt'), key: read('server.key'), cert: read('server.crt') };
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function serveTls(tls: { minVersion?: 'TLSv1' | 'TLSv1.2'; maxVersion?: 'TLSv1.1' | 'TLSv1.3'; ciphers?: string } = {}): Promise<TestServer> {
    const seen: Seen[] = [];
    const script: Step[] = [];
    return listen(createHttpsServer({ key: pems.key, cert: pems.cert, ...tls }, handler(seen, script)), 'https', seen, script);
  }

  it('trusts a private CA given as caBundle', async () => {
    const server = await serveTls();
    await expect(transport({ caBundle: pems.ca }).send(get(server.url))).resolves.toMatchObject({ status: 200, text: 'ok' });
  });

  it("fails with 'tls' and no retries when the CA is unknown", async () => {
    const server = await serveTls();
    const error = await failure(transport().send(get(server.url)));
    expect(error).toMatchObject({ failure: 'tls', details: { attempts: 1 } });
    expect(error.details.transportCode).toBeDefined();
    expect(server.seen).toHaveLength(0);
  });

  it('skips verification only when rejectUnauthorized is false explicitly', async () => {
    const server = await serveTls();
    await expect(transport({ rejectUnauthorized: false }).send(get(server.url))).resolves.toMatchObject({ status: 200 });
    await expect(failure(transport({ rejectUnauthorized: undefined }).send(get(server.url)))).resolves.toMatchObject({ failure: 'tls' });
  });

  it('refuses a server that offers nothing newer than TLS 1.1', async () => {
    const server = await serveTls({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    const error = await failure(transport({ caBundle: pems.ca }).send(get(server.url)));
    expect(error).toMatchObject({ failure: 'tls', details: { attempts: 1 } });
    expect(server.seen).toHaveLength(0);
  });
});

describe('answer size', () => {
  it("refuses a body larger than allowed as 'too-large', naming the limit and nothing of the body, without retrying", async () => {
    const server = await serve([{ status: 200, body: 'secret-body-text '.repeat(10) }]);
    const error = await failure(transport({ maxBodyBytes: 100 }).send(get(server.url)));
    expect(error).toMatchObject({ failure: 'too-large', details: { status: 200, attempts: 1 } });
    expect(error.message).toBe('Test Vault answered GET thing with more than 100 bytes, the limit for one answer');
    expect(server.seen).toHaveLength(1);
  });

  it('takes 4 MiB when no limit is given, and not a byte more', async () => {
    const server = await serve([
      { status: 200, body: 'x'.repeat(DEFAULT_MAX_BODY_BYTES) },
      { status: 200, body: 'x'.repeat(DEFAULT_MAX_BODY_BYTES + 1) },
    ]);
    expect(DEFAULT_MAX_BODY_BYTES).toBe(4 * 1024 * 1024);
    // compared as strings: a regular expression over 4 MiB (even /^x+$/) can overflow the stack, and a failed
    // toBe would print both 4 MiB values
    const whole = await transport().send(get(server.url));
    expect(whole.text.length).toBe(4 * 1024 * 1024);
    expect(whole.text === 'x'.repeat(DEFAULT_MAX_BODY_BYTES)).toBe(true);
    await expect(failure(transport().send(get(server.url)))).resolves.toMatchObject({ failure: 'too-large' });
  });

  it('holds the whole call to its timeout: an answer that trickles in a byte at a time is cut off as unreachable', async () => {
    // each byte comes well within the body timeout, so only the call's own deadline ends it
    const timers: NodeJS.Timeout[] = [];
    const trickling = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      timers.push(setInterval(() => res.write(' '), 20));
    });
    const server = await listen(trickling, 'http', [], []);
    const started = Date.now();
    const error = await failure(transport({ timeoutMs: 300, retry: { attempts: 1 } }).send(get(server.url)));
    timers.forEach(clearInterval);
    trickling.closeAllConnections();
    expect(error).toMatchObject({ failure: 'unreachable', details: { attempts: 1, transportCode: 'ETIMEDOUT' } });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses an answer whose Content-Length is over the limit before reading its body, arrived whole or never ending', async () => {
    // A body that never ends would be read into the timeout (unreachable); one that arrived whole must not
    // leave its discarded stream to report an abort nobody listens to.
    for (const whole of [false, true]) {
      const announcing = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/xml', 'content-length': '4096' });
        if (whole) res.end('<'.repeat(4096));
        else res.write('<');
      });
      const server = await listen(announcing, 'http', [], []);
      const error = await failure(transport({ maxBodyBytes: 1024, timeoutMs: 3_000, retry: { attempts: 1 } }).send(get(server.url)));
      expect(error).toMatchObject({ failure: 'too-large', details: { status: 200, attempts: 1 } });
      // the stream reports its abort on a later turn of the event loop
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      announcing.closeAllConnections();
    }
  });

  it('cuts a streamed answer off once it passes the limit instead of taking it whole', async () => {
    const total = 256 * 1024 * 1024;
    let written = 0;
    let cutAt: number | undefined;
    let hungUp: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      hungUp = resolve;
    });
    const streaming = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (written < total && cutAt === undefined) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {
        cutAt = written;
        hungUp();
      });
      pump();
    });
    const server = await listen(streaming, 'http', [], []);
    const error = await failure(transport({ maxBodyBytes: 1024 * 1024 }).send(get(server.url)));
    expect(error).toMatchObject({ failure: 'too-large', details: { attempts: 1 } });
    await closed;
    // what the sockets' buffers held when the transport hung up, far from the 256 MiB the server had to send
    expect(cutAt).toBeLessThan(32 * 1024 * 1024);
  });
});
