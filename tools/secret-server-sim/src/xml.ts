/**
 * A small XML 1.0 reader and writer, enough for SOAP 1.1 envelopes: elements, attributes, namespaces,
 * character and predefined entities, CDATA, comments and processing instructions. Document type
 * declarations are refused outright, so no entity expansion can be smuggled in.
 */

export interface XmlElement {
  /** The name as written, with its prefix. */
  name: string;
  local: string;
  /** Resolved namespace URI; undefined for an unqualified name outside any default namespace. */
  ns: string | undefined;
  attributes: XmlAttribute[];
  children: XmlElement[];
  /** Direct character data (text and CDATA), in order, without the children's. */
  text: string;
}

export interface XmlAttribute {
  name: string;
  local: string;
  ns: string | undefined;
  value: string;
}

export class XmlParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} (line ${line}, position ${column})`);
    this.name = 'XmlParseError';
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const NAME = /[\p{L}_][\p{L}\p{N}._-]*(?::[\p{L}_][\p{L}\p{N}._-]*)?/uy;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
// Envelopes here are a few levels deep; the limits only stop a hostile body from costing much.
const MAX_DEPTH = 64;
const MAX_ELEMENTS = 10_000;

interface RawElement {
  name: string;
  rawAttributes: { name: string; value: string }[];
  children: RawElement[];
  text: string;
  offset: number;
}

export function parseXml(input: string): XmlElement {
  return new Reader(input).document();
}

class Reader {
  private pos = 0;
  private elements = 0;

  constructor(private readonly src: string) {
    if (src.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  document(): XmlElement {
    if (this.src.startsWith('<?xml', this.pos) && /\s/.test(this.src.charAt(this.pos + 5))) this.skipPi();
    this.misc();
    if (this.pos >= this.src.length || this.src[this.pos] !== '<') this.fail('Root element is missing');
    const root = this.element(0);
    this.misc();
    if (this.pos < this.src.length) this.fail('Data at the root level is invalid');
    return resolve(root, new Map([['xml', XML_NS]]), (message, offset) => this.failAt(message, offset));
  }

  /** Whitespace, comments and processing instructions, which may surround the root element. */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.src.startsWith('<!--', this.pos)) this.skipComment();
      else if (this.src.startsWith('<!DOCTYPE', this.pos) || this.src.startsWith('<!ENTITY', this.pos)) {
        this.fail('Document type declarations are not allowed');
      } else if (this.src.startsWith('<?', this.pos)) this.skipPi();
      else return;
    }
  }

  private element(depth: number): RawElement {
    if (depth >= MAX_DEPTH) this.fail('Elements are nested too deeply');
    this.elements += 1;
    if (this.elements > MAX_ELEMENTS) this.fail('Too many elements');
    const offset = this.pos;
    this.expect('<');
    const name = this.name();
    const rawAttributes: RawElement['rawAttributes'] = [];
    for (;;) {
      const hadSpace = this.skipSpace();
      if (this.src.startsWith('/>', this.pos)) {
        this.pos += 2;
        return { name, rawAttributes, children: [], text: '', offset };
      }
      if (this.src[this.pos] === '>') {
        this.pos += 1;
        break;
      }
      if (!hadSpace) this.fail(`Unexpected character in tag <${name}>`);
      const attrName = this.name();
      this.skipSpace();
      this.expect('=');
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail('Attribute values must be quoted');
      this.pos += 1;
      const end = this.src.indexOf(quote, this.pos);
      if (end < 0) this.fail('Unterminated attribute value');
      const raw = this.src.slice(this.pos, end);
      if (raw.includes('<')) this.fail("'<' is not allowed in an attribute value");
      if (rawAttributes.some((a) => a.name === attrName)) this.fail(`Duplicate attribute ${attrName}`);
      rawAttributes.push({ name: attrName, value: this.decode(raw, this.pos).replace(/[\t\n\r]/g, ' ') });
      this.pos = end + 1;
    }

    const children: RawElement[] = [];
    let text = '';
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`Element <${name}> is not closed`);
      if (this.src.startsWith('</', this.pos)) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== name) this.fail(`The end tag </${closing}> does not match <${name}>`);
        this.skipSpace();
        this.expect('>');
        return { name, rawAttributes, children, text, offset };
      }
      if (this.src.startsWith('<!--', this.pos)) this.skipComment();
      else if (this.src.startsWith('<![CDATA[', this.pos)) {
        const end = this.src.indexOf(']]>', this.pos + 9);
        if (end < 0) this.fail('Unterminated CDATA section');
        text += this.src.slice(this.pos + 9, end);
        this.pos = end + 3;
      } else if (this.src.startsWith('<!', this.pos)) this.fail('Markup declarations are not allowed');
      else if (this.src.startsWith('<?', this.pos)) this.skipPi();
      else if (this.src[this.pos] === '<') children.push(this.element(depth + 1));
      else {
        const next = this.src.indexOf('<', this.pos);
        const end = next < 0 ? this.src.length : next;
        const raw = this.src.slice(this.pos, end);
        if (raw.includes(']]>')) this.fail("']]>' is not allowed in text");
        text += this.decode(raw, this.pos);
        this.pos = end;
      }
    }
  }

  private decode(raw: string, offset: number): string {
    return raw.replace(/&([^;&]*);?/g, (match, body: string, at: number) => {
      if (!match.endsWith(';')) this.failAt('An entity reference is not terminated by ";"', offset + at);
      const predefined = PREDEFINED[body];
      if (predefined !== undefined) return predefined;
      const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(body);
      const code = numeric ? (numeric[1] !== undefined ? parseInt(numeric[1], 16) : Number(numeric[2])) : NaN;
      if (!isXmlChar(code)) this.failAt(`Reference to undeclared or invalid entity '${body}'`, offset + at);
      return String.fromCodePoint(code);
    });
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.src);
    if (!match) this.fail('A name was expected');
    this.pos += match[0].length;
    return match[0];
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.src.length && ' \t\r\n'.includes(this.src.charAt(this.pos))) this.pos += 1;
    return this.pos > start;
  }

  private skipComment(): void {
    const end = this.src.indexOf('-->', this.pos + 4);
    if (end < 0) this.fail('Unterminated comment');
    this.pos = end + 3;
  }

  private skipPi(): void {
    const end = this.src.indexOf('?>', this.pos + 2);
    if (end < 0) this.fail('Unterminated processing instruction');
    this.pos = end + 2;
  }

  private expect(char: string): void {
    if (this.src[this.pos] !== char) this.fail(`'${char}' was expected`);
    this.pos += 1;
  }

  private fail(message: string): never {
    return this.failAt(message, this.pos);
  }

  private failAt(message: string, offset: number): never {
    const before = this.src.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    throw new XmlParseError(message, line, column);
  }
}

function resolve(raw: RawElement, outer: Map<string, string>, fail: (message: string, offset: number) => never): XmlElement {
  const scope = new Map(outer);
  for (const { name, value } of raw.rawAttributes) {
    if (name === 'xmlns') scope.set('', value);
    else if (name.startsWith('xmlns:')) {
      if (value === '') fail(`The prefix ${name.slice(6)} cannot be undeclared`, raw.offset);
      scope.set(name.slice(6), value);
    }
  }
  const split = (qualified: string, isAttribute: boolean): { local: string; ns: string | undefined } => {
    const colon = qualified.indexOf(':');
    if (colon < 0) {
      const ns = isAttribute ? undefined : scope.get('');
      return { local: qualified, ns: ns === '' ? undefined : ns };
    }
    const prefix = qualified.slice(0, colon);
    if (prefix === 'xmlns') return { local: qualified.slice(colon + 1), ns: XMLNS_NS };
    const ns = scope.get(prefix);
    if (ns === undefined) fail(`'${prefix}' is an undeclared prefix`, raw.offset);
    return { local: qualified.slice(colon + 1), ns };
  };
  const attributes = raw.rawAttributes
    .filter((a) => a.name !== 'xmlns')
    .map((a) => ({ name: a.name, value: a.value, ...split(a.name, true) }));
  return {
    name: raw.name,
    ...split(raw.name, false),
    attributes,
    children: raw.children.map((child) => resolve(child, scope, fail)),
    text: raw.text,
  };
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}


/** An element to write. `text` and `children` are exclusive; an element with neither is written empty. */
export interface XmlNode {
  name: string;
  attrs?: Record<string, string>;
  text?: string;
  children?: XmlNode[];
}

export type XmlChild = XmlNode | null | undefined | false;

export function el(name: string, children: XmlChild[] = [], attrs?: Record<string, string>): XmlNode {
  return { name, children: children.filter((c): c is XmlNode => Boolean(c)), ...(attrs ? { attrs } : {}) };
}

/** A leaf with text content; booleans and numbers are written the way .NET's XmlSerializer writes them. */
export function leaf(name: string, value: string | number | boolean): XmlNode {
  return { name, text: typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value) };
}

export function serializeXml(node: XmlNode): string {
  const attrs = Object.entries(node.attrs ?? {})
    .map(([k, v]) => ` ${k}="${escapeXml(v, true)}"`)
    .join('');
  if (node.text !== undefined && node.text !== '') return `<${node.name}${attrs}>${escapeXml(node.text, false)}</${node.name}>`;
  const children = node.children ?? [];
  if (children.length === 0) return `<${node.name}${attrs} />`;
  return `<${node.name}${attrs}>${children.map(serializeXml).join('')}</${node.name}>`;
}

/**
 * Escapes markup characters and drops code points XML 1.0 cannot carry at all (most C0 controls, lone
 * surrogates), which .NET would refuse to write; carriage returns and tabs in attributes become character
 * references so a reader's normalisation cannot change them.
 */
export function escapeXml(value: string, attribute: boolean): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (!isXmlChar(code)) continue;
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
