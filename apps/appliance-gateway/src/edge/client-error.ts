import { OpenEcmError } from '@openecm/contracts';
import { toProblem } from '@openecm/service-kit';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Answers for requests Node's HTTP parser refuses before the application sees them: a head over
 * `maxHeaderSize`, a control character in the request line or a header, anything that is not HTTP. Node's own
 * answer is a bare status line; these are problem+json like every other answer of the gateway. Nothing of the
 * request is quoted back.
 */
export function clientErrorProblem(error: { code?: string; message?: string }): { status: number; body: string } | undefined {
  const code = error.code ?? '';
  if (code === 'HPE_HEADER_OVERFLOW') {
    const message = `the request line and headers are larger than ${Math.floor(maxHeaderSize / 1024)} kb`;
    return problem(new OpenEcmError('REQUEST_HEADERS_TOO_LARGE', message, [{ field: '(headers)', message }]));
  }
  if (!code.startsWith('HPE_')) return undefined;
  const text = error.message ?? '';
  const field = /url query/i.test(text) ? '(query)' : /url/i.test(text) ? '(path)' : /header/i.test(text) ? '(headers)' : '(request)';
  const message =
    field === '(request)' ? 'the request is not valid HTTP/1.1' : 'must not contain control characters or other characters HTTP does not allow there';
  return problem(new OpenEcmError('VALIDATION_FAILED', `invalid request: ${field} (${message})`, [{ field, message }]));
}

function problem(error: OpenEcmError): { status: number; body: string } {
  const body = toProblem(error);
  return { status: body.status, body: JSON.stringify(body) };
}

/** The `clientError` listener of the gateway's HTTP server. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const answer = clientErrorProblem(error);
  if (!answer) {
    // a request that timed out, or a socket error: what Node itself answers
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    return;
  }
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      'Cache-Control: no-store\r\n' +
      `Content-Length: ${Buffer.byteLength(answer.body)}\r\n` +
      'Connection: close\r\n\r\n' +
      answer.body,
  );
}
