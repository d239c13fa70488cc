import { isXmlChar } from './chars';

export const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

/** An element to write. `text` and `children` are exclusive; an element with neither is written empty. */
export interface XmlNode {
  /** The qualified name as it is to be written; its prefix must be declared by it or an ancestor. */
  name: string;
  attrs?: Record<string, string>;
  text?: string;
  children?: XmlNode[];
}

/** Falsy entries are left out, so optional elements can be written inline (`cond && leaf(...)`). */
export type XmlChild = XmlNode | null | undefined | false;

export interface XmlWriteOptions {
  /**
   * Refuse a character XML 1.0 cannot carry with an XmlValueError naming the element, instead of dropping
   * it. Values that must arrive unchanged, such as credentials, are written strictly.
   */
  strict?: boolean;
}

/** Thrown for a value XML 1.0 cannot carry; it names the field and never the value, so it may be logged. */
export class XmlValueError extends Error {
  constructor(readonly field: string) {
    super(`${field} holds a character XML cannot carry`);
    this.name = 'XmlValueError';
  }
}

export function el(name: string, children: XmlChild[] = [], attrs?: Record<string, string>): XmlNode {
  return { name, children: children.filter((c): c is XmlNode => Boolean(c)), ...(attrs ? { attrs } : {}) };
}

/** A leaf with text content; booleans and numbers are written the way .NET's XmlSerializer writes them. */
export function leaf(name: string, value: string | number | boolean): XmlNode {
  return { name, text: typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value) };
}

export function serializeXml(node: XmlNode, options: XmlWriteOptions = {}): string {
  const escape = (value: string, attribute: string | undefined): string =>
    options.strict ? escapeXmlStrict(value, attribute === undefined ? node.name : `${node.name}@${attribute}`, attribute !== undefined) : escapeXml(value, attribute !== undefined);
  const attrs = Object.entries(node.attrs ?? {})
    .map(([k, v]) => ` ${k}="${escape(v, k)}"`)
    .join('');
  if (node.text !== undefined && node.text !== '') return `<${node.name}${attrs}>${escape(node.text, undefined)}</${node.name}>`;
  const children = node.children ?? [];
  if (children.length === 0) return `<${node.name}${attrs} />`;
  return `<${node.name}${attrs}>${children.map((c) => serializeXml(c, options)).join('')}</${node.name}>`;
}

/**
 * Escapes markup characters and drops code points XML 1.0 cannot carry at all (most C0 controls, lone
 * surrogates), which .NET would refuse to write. For values that must not change, see escapeXmlStrict.
 */
export function escapeXml(value: string, attribute = false): string {
  return escape(value, attribute, undefined);
}

/** As escapeXml, but a character XML cannot carry is refused with an XmlValueError naming `field`. */
export function escapeXmlStrict(value: string, field: string, attribute = false): string {
  return escape(value, attribute, field);
}

/**
 * A carriage return is always written as a reference, and in attributes so are line feeds and tabs, because a
 * reader's end-of-line and attribute normalisation would otherwise change them on the way (a password with
 * a CR in it would no longer match).
 */
function escape(value: string, attribute: boolean, strictField: string | undefined): string {
  let out = '';
  for (const char of value) {
    if (!isXmlChar(char.codePointAt(0) ?? 0)) {
      if (strictField !== undefined) throw new XmlValueError(strictField);
      continue;
    }
    if (char === '&') out += '&amp;';
    else if (char === '<') out += '&lt;';
    else if (char === '>') out += '&gt;';
    else if (char === '\r') out += '&#xD;';
    else if (attribute && char === '"') out += '&quot;';
    else if (attribute && char === '\n') out += '&#xA;';
    else if (attribute && char === '\t') out += '&#x9;';
    else out += char;
  }
  return out;
}
