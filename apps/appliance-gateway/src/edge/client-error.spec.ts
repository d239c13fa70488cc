import { ProblemDetails } from '@openecm/contracts';
import { clientErrorProblem } from './client-error';

const parsed = (answer: ReturnType<typeof clientErrorProblem>) => ProblemDetails.parse(JSON.parse(answer?.body ?? 'null'));

describe('answers to requests the HTTP parser refuses', () => {
  it('answers a head over the limit with 431 REQUEST_HEADERS_TOO_LARGE', () => {
    const answer = clientErrorProblem({ code: 'HPE_HEADER_OVERFLOW', message: 'Parse Error: Header overflow' });
    expect(answer?.status).toBe(431);
    expect(parsed(answer)).toMatchObject({ status: 431, code: 'REQUEST_HEADERS_TOO_LARGE', errors: [{ field: '(headers)' }] });
  });

  it('names where a character HTTP does not allow was found', () => {
    const where = (message: string) => parsed(clientErrorProblem({ code: 'HPE_INVALID_URL', message })).errors?.[0]?.field;
    expect(where('Parse Error: Invalid char in url path')).toBe('(path)');
    expect(where('Parse Error: Invalid char in url query')).toBe('(query)');
    const header = parsed(clientErrorProblem({ code: 'HPE_INVALID_HEADER_TOKEN', message: 'Parse Error: Invalid header value char' }));
    expect(header).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [{ field: '(headers)' }] });
    expect(parsed(clientErrorProblem({ code: 'HPE_INVALID_METHOD', message: 'Parse Error: Invalid method encountered' })).errors?.[0]?.field).toBe('(request)');
  });

  it('leaves timeouts and socket errors to the plain answers', () => {
    expect(clientErrorProblem({ code: 'ERR_HTTP_REQUEST_TIMEOUT' })).toBeUndefined();
    expect(clientErrorProblem({ code: 'ECONNRESET' })).toBeUndefined();
  });
});
