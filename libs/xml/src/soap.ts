import { XSI_NS } from './query';
import { XML_DECLARATION, el, serializeXml, type XmlChild, type XmlWriteOptions } from './write';

export const SOAP_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

/**
 * A SOAP 1.1 envelope as ASP.NET web services write one: the XML declaration, the `soap`, `xsi` and `xsd`
 * prefixes declared on the Envelope, no Header, and `body` inside `soap:Body`.
 */
export function soapEnvelope(body: XmlChild[], options: XmlWriteOptions = {}): string {
  const envelope = el('soap:Envelope', [el('soap:Body', body)], { 'xmlns:soap': SOAP_ENVELOPE_NS, 'xmlns:xsi': XSI_NS, 'xmlns:xsd': XSD_NS });
  return `${XML_DECLARATION}${serializeXml(envelope, options)}`;
}
