import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** The parts of an OpenAPI 3.1 document that say what a route may answer. */
export interface OpenApiDescription {
  paths?: { [path: string]: object | undefined };
  components?: { schemas?: object };
}

interface OpenApiResponse {
  content?: Record<string, { schema?: unknown }>;
}

/** One answer as a client received it. */
export interface ObservedAnswer {
  method: string;
  url: string;
  status: number;
  contentType: string | null;
  body: string;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  literalSegments: number;
  responses: Record<string, OpenApiResponse>;
}

const COMPONENTS_ID = 'openapi-components';
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

const isJson = (mediaType: string) => mediaType === 'application/json' || mediaType.endsWith('+json');

/**
 * Checks answers against an OpenAPI 3.1 document: the route must be described, the status documented for it,
 * the content type one of that status's, and the body valid against its schema (JSON Schema 2020-12, with
 * ajv). Validators are compiled once per route, status and content type.
 */
export class OpenApiConformance {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  private readonly routes: Route[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(document: OpenApiDescription) {
    addFormats(this.ajv);
    // schemas refer to `#/components/schemas/X`: served to ajv as one schema of definitions
    const rebased = JSON.parse(JSON.stringify(document).replaceAll('"#/components/schemas/', `"${COMPONENTS_ID}#/$defs/`)) as OpenApiDescription;
    this.ajv.addSchema({ $id: COMPONENTS_ID, $defs: rebased.components?.schemas ?? {} });
    this.routes = Object.entries(rebased.paths ?? {})
      .flatMap(([template, item]) =>
        Object.entries(item ?? {})
          .filter(([method]) => METHODS.has(method))
          .map(([method, operation]) => {
            const segments = template.split('/');
            return {
              method,
              template,
              pattern: new RegExp(`^${segments.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : escapeRegExp(s))).join('/')}$`),
              literalSegments: segments.filter((s) => !s.startsWith('{')).length,
              responses: (operation as { responses?: Record<string, OpenApiResponse> }).responses ?? {},
            };
          }),
      )
      // a literal segment wins over a parameter: /vaults/test before /vaults/{name}
      .sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** Why the answer does not match the document, naming the route; undefined when it does. */
  check(answer: ObservedAnswer): string | undefined {
    const method = answer.method.toLowerCase();
    const path = new URL(answer.url).pathname;
    const route = this.routes.find((r) => r.method === method && r.pattern.test(path));
    if (!route) return `${answer.method.toUpperCase()} ${path}: no such route in the document`;
    const name = `${method.toUpperCase()} ${route.template}`;
    const status = String(answer.status);
    const response = route.responses[status] ?? route.responses[`${status[0]}XX`] ?? route.responses['default'];
    if (!response) return `${name} answered ${status}, which the document does not list`;
    const content = response.content ?? {};
    const mediaType = (answer.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (Object.keys(content).length === 0) {
      return answer.body === '' ? undefined : `${name} answered ${status} with a body the document does not describe`;
    }
    const media = content[mediaType];
    if (!media) return `${name} answered ${status} as "${mediaType}", the document says ${Object.keys(content).join(' or ')}`;
    if (media.schema === undefined) return undefined;
    let body: unknown = answer.body;
    if (isJson(mediaType)) {
      try {
        body = JSON.parse(answer.body);
      } catch {
        return `${name} answered ${status} with a body that is not JSON`;
      }
    }
    const validate = this.validator(`${name} ${status} ${mediaType}`, media.schema);
    if (validate(body)) return undefined;
    return `${name} answered ${status} with a body the schema rejects: ${describeErrors(validate.errors ?? [])}`;
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema as object);
      this.validators.set(key, validate);
    }
    return validate;
  }
}

/** The failing places and what the schema expected there, never the values received (a body may hold a secret). */
function describeErrors(errors: ErrorObject[]): string {
  const described = errors.slice(0, 6).map((e) => {
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    return `${e.instancePath || '/'} ${e.message ?? e.keyword}${extra ? ` (${extra})` : ''}`;
  });
  return [...new Set(described)].join('; ') + (errors.length > 6 ? `; and ${errors.length - 6} more` : '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
