import { OpenApiConformance, type ObservedAnswer } from './openapi-conformance';

const document = {
  paths: {
    '/things/{id}': {
      get: {
        responses: {
          '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
          '404': { content: { 'application/problem+json': { schema: { type: 'object', required: ['code'], properties: { code: { const: 'NOT_FOUND' } } } } } },
        },
      },
      parameters: [],
    },
    '/things/special': { get: { responses: { '204': { description: 'nothing' } } } },
    '/metrics': { get: { responses: { '200': { content: { 'text/plain': { schema: { type: 'string' } } } } } } },
  },
  components: {
    schemas: {
      Thing: {
        type: 'object',
        properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' } },
        required: ['id', 'name'],
        additionalProperties: false,
      },
    },
  },
};

const id = '6f1c2b9e-7d1a-4a0e-9a55-3c2f8e9b1d20';
const answer = (over: Partial<ObservedAnswer>): ObservedAnswer => ({
  method: 'GET',
  url: `http://127.0.0.1:8080/things/${id}?x=1`,
  status: 200,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify({ id, name: 'one' }),
  ...over,
});

describe('OpenApiConformance', () => {
  const conformance = new OpenApiConformance(document);

  it('accepts an answer the document describes, following component references', () => {
    expect(conformance.check(answer({}))).toBeUndefined();
    expect(conformance.check(answer({ status: 404, contentType: 'application/problem+json', body: '{"code":"NOT_FOUND"}' }))).toBeUndefined();
    expect(conformance.check(answer({ url: 'http://h/metrics', contentType: 'text/plain; version=0.0.4', body: 'up 1\n' }))).toBeUndefined();
  });

  it('matches a literal path segment before a parameter', () => {
    expect(conformance.check(answer({ url: 'http://h/things/special', status: 204, contentType: null, body: '' }))).toBeUndefined();
    expect(conformance.check(answer({ url: 'http://h/things/special', status: 204, body: '{"id":1}' }))).toMatch(/GET \/things\/special .*does not describe/);
  });

  it('names the route of a status the document does not list', () => {
    expect(conformance.check(answer({ status: 500 }))).toBe('GET /things/{id} answered 500, which the document does not list');
  });

  it('names the route and the field of a body the schema rejects, without the values received', () => {
    const failure = conformance.check(answer({ body: JSON.stringify({ id: 'secret-value', name: 'one', extra: 'hidden' }) }));
    expect(failure).toMatch(/^GET \/things\/\{id\} answered 200 with a body the schema rejects: /);
    expect(failure).toContain('/id must match format "uuid"');
    expect(failure).toContain('(extra)');
    expect(failure).not.toContain('secret-value');
    expect(failure).not.toContain('hidden');
    expect(conformance.check(answer({ body: 'not json' }))).toMatch(/not JSON/);
  });

  it('refuses another content type, an unknown route and an undescribed method', () => {
    expect(conformance.check(answer({ contentType: 'text/html' }))).toMatch(/as "text\/html", the document says application\/json/);
    expect(conformance.check(answer({ url: 'http://h/nowhere' }))).toBe('GET /nowhere: no such route in the document');
    expect(conformance.check(answer({ method: 'DELETE' }))).toMatch(/DELETE \/things\/[0-9a-f-]+: no such route/);
  });
});
