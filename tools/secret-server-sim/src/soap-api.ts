import type { FastifyInstance, FastifyRequest } from 'fastify';
import { el, leaf, type XmlChild, type XmlNode } from '@openecm/xml';
import { SOAP_SECRET_ERROR_CODES, SimError } from './errors';
import {
  SoapFault,
  boolParam,
  codeResponsesParam,
  errorsNode,
  intParam,
  nillable,
  readSoapRequest,
  soapActionOperation,
  soapFaultResponse,
  soapResponse,
  stringParam,
  type SoapRequest,
} from './soap';
import { attachmentName, itemId, type SecretView, type SimState } from './state';

export const SOAP_PATH = '/webservices/SSWebService.asmx';

export const SOAP_OPERATIONS = [
  'Authenticate',
  'ImpersonateUser',
  'GetTokenIsValid',
  'SearchSecretsByFieldValue',
  'SearchSecrets',
  'GetSecret',
  'GetCheckOutStatus',
  'CheckIn',
  'WhoAmI',
  'VersionGet',
] as const;
export type SoapOperation = (typeof SOAP_OPERATIONS)[number];

const XML_TYPE = 'text/xml; charset=utf-8';

export interface SoapApiOptions {
  state: SimState;
  /** Where an end user approves an API account, for AuthorizeURL. */
  authorizeUrl: (request: FastifyRequest, requestId: string) => string;
  /** Records the operation of each call so the request log can name it. */
  onOperation: (request: FastifyRequest, operation: SoapOperation) => void;
}

type Handler = (call: SoapRequest, request: FastifyRequest) => XmlChild[];

/** The SOAP operation a request's SOAPAction names, if it is one the simulator serves. */
export function soapOperationOf(header: string | string[] | undefined): SoapOperation | undefined {
  try {
    const value = Array.isArray(header) ? header[0] : header;
    return soapActionOperation(value, SOAP_OPERATIONS);
  } catch {
    return undefined;
  }
}

export function registerSoapApi(api: FastifyInstance, options: SoapApiOptions): void {
  const { state } = options;
  const str = (call: SoapRequest, name: string): string => stringParam(call, name) ?? '';

  /** Runs an operation; a SimError becomes the 200-with-Errors answer the service gives for every failure. */
  const guarded = (run: () => XmlChild[], onError: (error: SimError) => XmlChild[] = (e) => [errorsNode([e.message])]): XmlChild[] => {
    try {
      return run();
    } catch (error) {
      if (error instanceof SimError) return onError(error);
      throw error;
    }
  };

  const handlers: Record<SoapOperation, Handler> = {
    Authenticate: (call) =>
      guarded(() => {
        const issued = state.login(
          { username: str(call, 'username'), password: str(call, 'password'), domain: str(call, 'domain'), organization: str(call, 'organization') },
          'soap',
        );
        return [errorsNode([]), leaf('Token', issued.token)];
      }),

    ImpersonateUser: (call, request) =>
      guarded(
        () => {
          const session = state.session(stringParam(call, 'token'));
          const issued = state.impersonate(
            session,
            { username: str(call, 'username'), domain: str(call, 'domain'), organization: str(call, 'organization') },
            (requestId) => options.authorizeUrl(request, requestId),
          );
          return [errorsNode([]), leaf('Token', issued.token)];
        },
        (error) => [errorsNode([error.message]), error.authorizeUrl ? leaf('AuthorizeURL', error.authorizeUrl) : null],
      ),

    GetTokenIsValid: (call) =>
      guarded(
        () => {
          const session = state.session(stringParam(call, 'token'));
          const seconds = Math.max(0, Math.floor((session.expiresAt - state.now()) / 1000));
          return [errorsNode([]), leaf('MaxOfflineSeconds', seconds), leaf('Version', state.version)];
        },
        (error) => [errorsNode([error.message]), leaf('MaxOfflineSeconds', 0), leaf('Version', state.version)],
      ),

    SearchSecretsByFieldValue: (call) => {
      const fieldName = str(call, 'fieldName').trim().toLowerCase();
      const criteria = {
        text: str(call, 'searchTerm'),
        field: (field: { name: string }) => field.name.toLowerCase() === fieldName,
        exact: true,
        includeInactive: boolParam(call, 'showDeleted'),
        includeRestricted: boolParam(call, 'showRestricted'),
      };
      return guarded(() => {
        const found = state.search(state.session(stringParam(call, 'token')), criteria);
        return [errorsNode([]), el('SecretSummaries', found.map(summaryNode))];
      });
    },

    SearchSecrets: (call) => {
      const criteria = {
        text: str(call, 'searchTerm'),
        exact: false,
        includeInactive: boolParam(call, 'includeDeleted'),
        includeRestricted: boolParam(call, 'includeRestricted'),
      };
      return guarded(() => {
        const found = state.search(state.session(stringParam(call, 'token')), criteria);
        return [errorsNode([]), el('SecretSummaries', found.map(summaryNode))];
      });
    },

    GetSecret: (call) => {
      const secretId = intParam(call, 'secretId');
      const withSettings = boolParam(call, 'loadSettingsAndPermissions');
      const codes = codeResponsesParam(call);
      return guarded(
        () => {
          const session = state.session(stringParam(call, 'token'));
          // A restricted read is answered by echoing the SecretError code with the comment text.
          const comment = codes.find((c) => c.errorCode.trim().toUpperCase() === 'COMMENT' && c.comment.trim() !== '')?.comment;
          const secret = state.openSecret(session, secretId, { ...(comment === undefined ? {} : { comment }), autoCheckout: true }, 'soap');
          return [errorsNode([]), secretNode(secret, withSettings)];
        },
        (error) => {
          const secretError = SOAP_SECRET_ERROR_CODES[error.code];
          return [
            errorsNode([error.message]),
            secretError &&
              el('SecretError', [
                leaf('ErrorCode', secretError.code),
                leaf('ErrorMessage', error.message),
                leaf('AllowsResponse', secretError.allowsResponse),
                leaf('CommentTitle', secretError.allowsResponse ? 'Comment' : ''),
                leaf('AdditionalCommentTitle', ''),
              ]),
          ];
        },
      );
    },

    GetCheckOutStatus: (call) => {
      const secretId = intParam(call, 'secretId');
      return guarded(
        () => {
          const secret = state.secretSummary(state.session(stringParam(call, 'token')), secretId);
          const checkout = secret.checkout;
          return [
            errorsNode([]),
            leaf('CheckOutMinutesRemaining', checkout?.minutesRemaining ?? 0),
            leaf('IsCheckedOut', checkout !== undefined),
            checkout && leaf('CheckOutUserDisplayName', checkout.displayName),
            leaf('CheckOutUserId', checkout?.userId ?? -1),
          ];
        },
        (error) => [errorsNode([error.message]), leaf('CheckOutMinutesRemaining', 0), leaf('IsCheckedOut', false), leaf('CheckOutUserId', -1)],
      );
    },

    CheckIn: (call) => {
      const secretId = intParam(call, 'secretId');
      return guarded(() => {
        state.checkIn(state.session(stringParam(call, 'token')), secretId, 'soap');
        return [errorsNode([])];
      });
    },

    WhoAmI: (call) =>
      guarded(
        () => {
          const { user } = state.session(stringParam(call, 'token'));
          return [
            errorsNode([]),
            leaf('DisplayName', user.displayName),
            leaf('UserName', user.seed.username),
            leaf('KnownAs', user.key),
            leaf('UserId', user.seed.id),
            leaf('DomainId', user.domainId),
            user.seed.domain !== null && leaf('DomainName', user.seed.domain),
          ];
        },
        (error) => [errorsNode([error.message]), leaf('UserId', 0), leaf('DomainId', 0)],
      ),

    VersionGet: () => [errorsNode([]), leaf('Version', state.version)],
  };

  api.post(SOAP_PATH, async (request, reply) => {
    const contentType = request.headers['content-type'] ?? '';
    if (!/^text\/xml(\s*;|$)/i.test(contentType)) {
      // ASP.NET web services serve SOAP 1.1 only as text/xml; anything else never reaches the service.
      return reply.code(415).type('text/plain; charset=utf-8').send('Unsupported Media Type: SOAP 1.1 requests use Content-Type text/xml');
    }
    try {
      const header = request.headers['soapaction'];
      const operation = soapActionOperation(Array.isArray(header) ? header[0] : header, SOAP_OPERATIONS);
      options.onOperation(request, operation);
      const call = readSoapRequest(typeof request.body === 'string' ? request.body : '', operation);
      state.countSoapCall(operation);
      return reply.code(200).type(XML_TYPE).send(soapResponse(operation, handlers[operation](call, request)));
    } catch (error) {
      if (error instanceof SoapFault) return reply.code(500).type(XML_TYPE).send(soapFaultResponse(error));
      throw error;
    }
  });
}

function summaryNode(secret: SecretView): XmlNode {
  return el('SecretSummary', [
    leaf('SecretId', secret.id),
    leaf('SecretName', secret.name),
    leaf('SecretTypeName', secret.template.name),
    leaf('SecretTypeId', secret.template.id),
    leaf('FolderId', secret.folderId ?? -1),
    leaf('IsRestricted', secret.isRestricted),
  ]);
}

/**
 * `Secret` in the order of the service's schema. The check-out members are nillable and stay nil on a
 * secret without check-out; settings and permissions come only when loadSettingsAndPermissions asked.
 */
function secretNode(secret: SecretView, withSettings: boolean): XmlNode {
  const checkout = secret.checkout;
  const enabled = secret.checkOutEnabled;
  return el('Secret', [
    leaf('Name', secret.name),
    el(
      'Items',
      secret.items.map(({ field, value }) =>
        el('SecretItem', [
          // File fields hold an attachment; the item carries its file name, not its content.
          leaf('Value', field.isFile ? (value === '' ? '' : attachmentName(field.slug)) : value),
          leaf('Id', itemId(secret.id, field.id)),
          leaf('FieldId', field.id),
          leaf('FieldName', field.name),
          leaf('IsFile', field.isFile),
          leaf('IsNotes', field.isNotes),
          leaf('IsPassword', field.isPassword),
          leaf('FieldDisplayName', field.name),
        ]),
      ),
    ),
    leaf('Id', secret.id),
    leaf('SecretTypeId', secret.template.id),
    leaf('FolderId', secret.folderId ?? -1),
    leaf('IsWebLauncher', false),
    nillable('CheckOutMinutesRemaining', enabled ? (checkout?.minutesRemaining ?? 0) : undefined),
    nillable('IsCheckedOut', enabled ? checkout !== undefined : undefined),
    checkout && leaf('CheckOutUserDisplayName', checkout.displayName),
    nillable('CheckOutUserId', checkout?.userId),
    nillable('IsOutOfSync', false),
    leaf('IsRestricted', secret.isRestricted),
    withSettings &&
      el('SecretSettings', [
        leaf('AutoChangeEnabled', false),
        leaf('RequiresApprovalForAccess', secret.requiresApprovalForAccess),
        leaf('RequiresComment', secret.requiresComment),
        leaf('CheckOutEnabled', secret.checkOutEnabled),
        leaf('CheckOutChangePasswordEnabled', secret.checkOutChangePasswordEnabled),
        leaf('ProxyEnabled', false),
        leaf('SessionRecordingEnabled', false),
        leaf('IsChangeToSettings', false),
      ]),
    withSettings &&
      el('SecretPermissions', [
        leaf('CurrentUserHasView', true),
        leaf('CurrentUserHasEdit', false),
        leaf('CurrentUserHasOwner', false),
        leaf('InheritPermissionsEnabled', secret.inheritPermissions),
        leaf('IsChangeToPermissions', false),
      ]),
    leaf('Active', secret.active),
  ]);
}
