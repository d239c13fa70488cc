import {
  ApiPermission,
  CONSOLE_CSRF_HEADER,
  CONSOLE_ROLE_PERMISSIONS,
  CONSOLE_SESSION_COOKIE,
  ERROR_CODES,
  ERROR_MEANINGS,
  GATEWAY_ROUTES,
  GATEWAY_TAGS,
  permissionsOf,
  LeaseView,
  OfferedCredential,
  PendingVault,
  ProblemDetails,
  VaultConnectionView,
  VaultTestResult,
  problemType,
  routeErrors,
  type ErrorCode,
  type GatewayRoute,
  type RouteAnswer,
} from '@openecm/contracts';
import { z } from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
  type oas31,
} from 'zod-openapi';

export type OpenApiDocument = oas31.OpenAPIObject;

const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const TOKEN_PATH = GATEWAY_ROUTES.issueToken.path;

const PERMISSION_MEANINGS: Record<ApiPermission, string> = {
  credentials: 'List, inject and release credentials: what an appliance needs.',
  reporting: 'Session reports, the session and event grids, and the appliance connection they are polled with.',
  admin: 'Vault connections, access policies, requester groups, API accounts, revocation and the token cache. Implies no other permission.',
  approvals: 'Deciding approval requests: what an approval integration (a ticketing system, a chat bot) or an approver holds.',
};

const DESCRIPTION = [
  'The public HTTP API of the OpenECM appliance gateway: what a remote-access appliance calls to list the credentials a',
  'user may use on an endpoint, inject one and release it, and what an operator calls to connect vaults and manage access.',
  '',
  `Sign in with the OAuth 2.0 client credentials grant at \`POST ${TOKEN_PATH}\` (HTTP Basic or form), then send`,
  '`Authorization: Bearer <token>`. Each route needs one permission of the API account; permissions do not imply each other.',
  '',
  'Every error is `application/problem+json` with a stable `code`; unknown fields are rejected and named in `errors`.',
].join('\n');

function pascal(code: ErrorCode): string {
  return code
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** One problem schema per error code, each a component: a response names the codes it can answer. */
const PROBLEMS = new Map<ErrorCode, z.ZodType>(
  (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => [
    code,
    z
      .intersection(
        ProblemDetails,
        z.looseObject({ type: z.literal(problemType(code)), status: z.literal(ERROR_CODES[code]), code: z.literal(code) }),
      )
      .meta({ description: ERROR_MEANINGS[code] }),
  ]),
);
const problemOf = (code: ErrorCode): z.ZodType => PROBLEMS.get(code) as z.ZodType;

const NO_STORE = z.object({ 'Cache-Control': z.literal('no-store').meta({ description: 'The answer carries a secret.' }) });
const BEARER_CHALLENGE = z.object({ 'WWW-Authenticate': z.string().meta({ description: 'The authentication scheme to use.' }) });
const RETRY_AFTER = z.object({ 'Retry-After': z.string().regex(/^\d+$/).meta({ description: 'The seconds to wait before trying again.' }) });

function security(route: GatewayRoute): oas31.SecurityRequirementObject[] {
  if (route.access === 'anyone') return [];
  // the client id and secret may come in HTTP Basic or in the form body: the empty requirement is the latter
  if (route.access === 'client-credentials') return [{ clientBasic: [] }, {}];
  const permissions = permissionsOf(route.access);
  // a person signed in to the console whose roles grant the permission
  const person = Object.values(CONSOLE_ROLE_PERMISSIONS).some((granted) => permissions.some((p) => granted.includes(p))) ? [{ consoleSession: [] }] : [];
  const byToken = permissions.flatMap((p): oas31.SecurityRequirementObject[] => [{ clientCredentials: [p] }, { bearerToken: [p] }]);
  return [...byToken, ...person];
}

function answer(a: RouteAnswer): ZodOpenApiResponseObject {
  return {
    description: a.description,
    ...(a.schema
      ? {
          content: {
            ...Object.fromEntries((a.contentTypes ?? ['application/json']).map((t) => [t, { schema: a.schema }])),
            ...Object.fromEntries(Object.entries(a.alternatives ?? {}).map(([t, schema]) => [t, { schema }])),
          },
        }
      : {}),
    ...(a.noStore ? { headers: NO_STORE } : {}),
  };
}

function errorAnswers(route: GatewayRoute): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of routeErrors(route)) byStatus.set(ERROR_CODES[code], [...(byStatus.get(ERROR_CODES[code]) ?? []), code]);
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const schemas = codes.map(problemOf);
    responses[String(status) as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description: codes.map((c) => `\`${c}\`: ${ERROR_MEANINGS[c]}`).join('\n\n'),
      content: { [PROBLEM_MEDIA_TYPE]: { schema: schemas.length === 1 ? schemas[0] : z.union(schemas) } },
      ...(status === 401
        ? { headers: BEARER_CHALLENGE }
        : status === 429
          ? { headers: RETRY_AFTER }
          : codes.includes('GATEWAY_BUSY')
            ? { headers: RETRY_AFTER.partial() }
            : {}),
    };
  }
  return responses;
}

function operation(id: string, route: GatewayRoute): ZodOpenApiOperationObject {
  const needs = typeof route.access === 'object' ? `Needs the ${permissionsOf(route.access).map((p) => `\`${p}\``).join(' or the ')} permission.` : undefined;
  const description = [route.description, needs].filter(Boolean).join('\n\n');
  return {
    operationId: id,
    tags: [route.tag],
    summary: route.summary,
    ...(description ? { description } : {}),
    security: security(route),
    ...(route.params || route.query
      ? { requestParams: { ...(route.params ? { path: route.params } : {}), ...(route.query ? { query: route.query } : {}) } }
      : {}),
    ...(route.body
      ? { requestBody: { required: true, content: Object.fromEntries((route.bodyTypes ?? ['application/json']).map((t) => [t, { schema: route.body }])) } }
      : {}),
    responses: {
      ...Object.fromEntries(Object.entries(route.answers).map(([status, a]) => [status, answer(a as RouteAnswer)])),
      ...errorAnswers(route),
    },
  };
}

/** The OpenAPI 3.1 document of the gateway's HTTP API, built from the route table in the contracts. */
export function buildOpenApiDocument(): OpenApiDocument {
  const paths: ZodOpenApiPathsObject = {};
  const answered = new Set<ErrorCode>();
  for (const [id, route] of Object.entries(GATEWAY_ROUTES) as Array<[string, GatewayRoute]>) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(id, route) };
    for (const code of routeErrors(route)) answered.add(code);
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'OpenECM appliance gateway',
      version: '1.0.0',
      description: DESCRIPTION,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'This gateway' }],
    tags: Object.entries(GATEWAY_TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: {
        Credential: OfferedCredential,
        PendingVault,
        Lease: LeaseView,
        VaultConnection: VaultConnectionView,
        VaultTestResult,
        Problem: ProblemDetails,
        ...Object.fromEntries([...answered].map((code) => [`${pascal(code)}Problem`, problemOf(code)])),
      },
      securitySchemes: {
        clientCredentials: {
          type: 'oauth2',
          description: 'An access token from the client credentials grant; the scope names the permission a route needs.',
          flows: { clientCredentials: { tokenUrl: TOKEN_PATH, scopes: PERMISSION_MEANINGS } },
        },
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: `An access token from \`POST ${TOKEN_PATH}\`; the role names the permission a route needs.`,
        },
        clientBasic: { type: 'http', scheme: 'basic', description: "The API account's client id and secret." },
        consoleSession: {
          type: 'apiKey',
          in: 'cookie',
          name: CONSOLE_SESSION_COOKIE,
          description:
            'A person signed in to the console (OpenID Connect): `viewer` holds `reporting`, `admin` holds `admin`. A call that ' +
            `changes something also needs the session's CSRF token in \`${CONSOLE_CSRF_HEADER}\`.`,
        },
      },
    },
  }, {
    override: ({ jsonSchema }) => {
      // zod names `.includes()` as a format no JSON Schema tool knows; its pattern says it all
      if (jsonSchema.format === 'includes') delete jsonSchema.format;
    },
  });
}
