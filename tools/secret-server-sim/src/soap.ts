import {
  SOAP_ENVELOPE_NS,
  XmlParseError,
  child,
  children,
  el,
  isNil,
  leaf,
  parseXml,
  soapEnvelope,
  type XmlChild,
  type XmlElement,
  type XmlNode,
} from '@openecm/xml';

export { SOAP_ENVELOPE_NS } from '@openecm/xml';
export const SOAP12_ENVELOPE_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const SS_NS = 'urn:thesecretserver.com';

/** A request the service cannot read: answered with a SOAP Fault and HTTP 500, as ASP.NET web services do. */
export class SoapFault extends Error {
  constructor(
    message: string,
    readonly faultCode: 'soap:Client' | 'soap:Server' | 'soap:VersionMismatch' = 'soap:Client',
  ) {
    super(message);
    this.name = 'SoapFault';
  }
}

export interface SoapRequest {
  operation: string;
  /** Parameters by name; only elements in the service namespace count, as with elementFormDefault="qualified". */
  params: Map<string, XmlElement>;
}

/**
 * The operation named by SOAPAction, checked against the body. ASP.NET dispatches on the header, so a missing
 * or unknown action is a fault even when the body names a real operation.
 */
export function soapActionOperation<T extends string>(header: string | undefined, operations: readonly T[]): T {
  const action = (header ?? '').trim().replace(/^"(.*)"$/s, '$1');
  const prefix = `${SS_NS}/`;
  const operation = action.startsWith(prefix) ? operations.find((o) => o === action.slice(prefix.length)) : undefined;
  if (operation === undefined) throw new SoapFault(`Server did not recognize the value of HTTP Header SOAPAction: ${action}.`);
  return operation;
}

export function readSoapRequest(body: string, operation: string): SoapRequest {
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (error) {
    // the fault goes back to whoever sent the document, so it may name what the document used, as .NET's does
    if (error instanceof XmlParseError) {
      throw new SoapFault(`Server was unable to read request. ---> There is an error in XML document (${error.line}, ${error.column}). ---> ${error.detailedMessage}`);
    }
    throw error;
  }
  if (root.local === 'Envelope' && root.ns === SOAP12_ENVELOPE_NS) {
    throw new SoapFault('Possible SOAP version mismatch: Envelope namespace http://www.w3.org/2003/05/soap-envelope was unexpected. Expecting http://schemas.xmlsoap.org/soap/envelope/.', 'soap:VersionMismatch');
  }
  if (root.local !== 'Envelope' || root.ns !== SOAP_ENVELOPE_NS) {
    throw new SoapFault('Server was unable to read request. ---> The root element is not a SOAP 1.1 Envelope.');
  }
  const bodies = root.children.filter((c) => c.local === 'Body' && c.ns === SOAP_ENVELOPE_NS);
  const soapBody = bodies[0];
  if (!soapBody || bodies.length > 1) throw new SoapFault('Server was unable to read request. ---> The Envelope must hold exactly one Body.');
  const call = soapBody.children[0];
  if (!call || soapBody.children.length > 1) throw new SoapFault('Server was unable to read request. ---> The Body must hold exactly one operation element.');
  if (call.local !== operation || call.ns !== SS_NS) {
    const expected = `<${operation} xmlns='${SS_NS}'>`;
    throw new SoapFault(`Server was unable to read request. ---> ${expected} was expected; found <${call.local} xmlns='${call.ns ?? ''}'>.`);
  }
  const params = new Map<string, XmlElement>();
  for (const child of call.children) {
    if (child.ns === SS_NS && !params.has(child.local)) params.set(child.local, child);
  }
  return { operation, params };
}

/** A string parameter; absent and xsi:nil both read as undefined, as a null reference would in .NET. */
export function stringParam(request: SoapRequest, name: string): string | undefined {
  const element = request.params.get(name);
  if (!element || isNil(element)) return undefined;
  return element.text;
}

/** XmlSerializer reads xsd:boolean as true/false/1/0 and an absent value-type parameter as its default. */
export function boolParam(request: SoapRequest, name: string): boolean {
  const raw = stringParam(request, name)?.trim();
  if (raw === undefined) return false;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new SoapFault(`Server was unable to read request. ---> There is an error in XML document. ---> The string '${raw}' is not a valid Boolean value.`);
}

export function intParam(request: SoapRequest, name: string): number {
  const raw = stringParam(request, name)?.trim();
  if (raw === undefined) return 0;
  const value = /^[+-]?\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
    throw new SoapFault('Server was unable to read request. ---> There is an error in XML document. ---> Input string was not in a correct format.');
  }
  return value;
}

export interface CodeResponse {
  errorCode: string;
  comment: string;
  additionalComment: string;
}

/** `codeResponses` is an ArrayOfCodeResponse: `<codeResponses><CodeResponse><ErrorCode/><Comment/>...`. */
export function codeResponsesParam(request: SoapRequest): CodeResponse[] {
  const list = request.params.get('codeResponses');
  if (!list) return [];
  return children(list, 'CodeResponse', SS_NS).map((entry) => {
    const field = (name: string): string => child(entry, name, SS_NS)?.text ?? '';
    return { errorCode: field('ErrorCode'), comment: field('Comment'), additionalComment: field('AdditionalComment') };
  });
}

/** `<Errors><string>..</string></Errors>`; empty when the call succeeded. */
export function errorsNode(errors: readonly string[]): XmlNode {
  return el(
    'Errors',
    errors.map((text) => ({ name: 'string', text })),
  );
}

/** A value-type element the service declares nillable: written with xsi:nil when there is no value. */
export function nillable(name: string, value: string | number | boolean | undefined): XmlNode {
  if (value === undefined) return { name, attrs: { 'xsi:nil': 'true' } };
  return { name, text: String(value) };
}

/** `<OpResponse xmlns="urn:thesecretserver.com"><OpResult>…</OpResult></OpResponse>` in an Envelope. */
export function soapResponse(operation: string, result: XmlChild[]): string {
  return soapEnvelope([el(`${operation}Response`, [el(`${operation}Result`, result)], { xmlns: SS_NS })]);
}

export function soapFaultResponse(fault: SoapFault): string {
  return soapEnvelope([el('soap:Fault', [leaf('faultcode', fault.faultCode), leaf('faultstring', fault.message), el('detail')])]);
}
