/**
 * Just enough XML 1.0 for SOAP 1.1 answers: elements, attributes, namespaces, the predefined and numeric
 * character references, CDATA, comments and processing instructions. A document type declaration is
 * refused outright, so no entity can be declared and expanded (XXE, billion laughs).
 */

export interface XmlElement {
  local: string;
  /** Resolved namespace URI; undefined when unqualified and outside any default namespace. */
  ns: string | undefined;
  attributes: XmlAttribute[];
  children: XmlElement[];
  /** The element's own character data (text and CDATA) in order, without its children's. */
  text: string;
}

export interface XmlAttribute {
  local: string;
  ns: string | undefined;
  value: string;
}

/** Never holds document text, so it is safe to log: only a reason and an offset. */
export class XmlError extends Error {
  constructor(reason: string, offset?: number) {
    super(offset === undefined ? reason : `${reason} at offset ${offset}`);
    this.name = 'XmlError';
  }
}

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME = /[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9._\-\u00B7\u00C0-\uFFFF]*(?::[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9._\-\u00B7\u00C0-\uFFFF]*)?/y;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
// SOAP answers here are a few levels deep; the limits only bound what a hostile or broken server can cost.
const MAX_DEPTH = 64;
const MAX_ELEMENTS = 200_000;

export function parseXml(input: string): XmlElement {
  return new Reader(input).document();
}

class Reader {
  private pos = 0;
  private elements = 0;

  constructor(private readonly src: string) {}

  document(): XmlElement {
    if (this.src.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.misc();
    if (this.src.startsWith('<!DOCTYPE', this.pos) || this.src.startsWith('<!doctype', this.pos)) {
      throw new XmlError('document type declarations are not accepted', this.pos);
    }
    if (this.src[this.pos] !== '<') throw new XmlError('expected the root element', this.pos);
    const root = this.element(new Map([['xml', XML_NS]]), 0);
    this.misc();
    if (this.pos < this.src.length) throw new XmlError('content after the root element', this.pos);
    return root;
  }

  /** Whitespace, comments and processing instructions (the XML declaration among them). */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.src.startsWith('<?', this.pos)) this.skipPast('?>', 'processing instruction');
      else if (this.src.startsWith('<!--', this.pos)) this.skipPast('-->', 'comment');
      else return;
    }
  }

  private element(scope: Map<string, string | undefined>, depth: number): XmlElement {
    if (depth >= MAX_DEPTH) throw new XmlError('elements nested too deeply', this.pos);
    if (++this.elements > MAX_ELEMENTS) throw new XmlError('too many elements', this.pos);
    this.pos += 1; // '<'
    const qname = this.name();
    const raw: Array<{ name: string; value: string }> = [];
    let selfClosing = false;
    for (;;) {
      const hadSpace = this.skipSpace();
      const c = this.src[this.pos];
      if (c === '/' && this.src[this.pos + 1] === '>') {
        this.pos += 2;
        selfClosing = true;
        break;
      }
      if (c === '>') {
        this.pos += 1;
        break;
      }
      if (c === undefined) throw new XmlError('unterminated start tag', this.pos);
      if (!hadSpace) throw new XmlError('expected whitespace between attributes', this.pos);
      const name = this.name();
      this.skipSpace();
      if (this.src[this.pos] !== '=') throw new XmlError('expected "=" after an attribute name', this.pos);
      this.pos += 1;
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") throw new XmlError('expected a quoted attribute value', this.pos);
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end < 0) throw new XmlError('unterminated attribute value', this.pos);
      const rawValue = this.src.slice(this.pos + 1, end);
      if (rawValue.includes('<')) throw new XmlError('"<" in an attribute value', this.pos);
      if (raw.some((a) => a.name === name)) throw new XmlError('duplicate attribute', this.pos);
      raw.push({ name, value: decodeEntities(rawValue, this.pos) });
      this.pos = end + 1;
    }

    const inner = new Map(scope);
    for (const a of raw) {
      if (a.name === 'xmlns') inner.set('', a.value === '' ? undefined : a.value);
      else if (a.name.startsWith('xmlns:')) {
        if (a.value === '') throw new XmlError('a namespace prefix cannot be undeclared', this.pos);
        inner.set(a.name.slice(6), a.value);
      }
    }
    const { local, ns } = resolve(qname, inner, true, this.pos);
    const attributes: XmlAttribute[] = raw
      .filter((a) => a.name !== 'xmlns' && !a.name.startsWith('xmlns:'))
      .map((a) => ({ ...resolve(a.name, inner, false, this.pos), value: a.value }));
    const node: XmlElement = { local, ns, attributes, children: [], text: '' };
    if (selfClosing) return node;

    const text: string[] = [];
    for (;;) {
      const lt = this.src.indexOf('<', this.pos);
      if (lt < 0) throw new XmlError('unterminated element', this.pos);
      if (lt > this.pos) {
        const chunk = this.src.slice(this.pos, lt);
        if (chunk.includes(']]>')) throw new XmlError('"]]>" in character data', this.pos);
        text.push(decodeEntities(chunk, this.pos));
        this.pos = lt;
      }
      if (this.src.startsWith('</', this.pos)) {
        this.pos += 2;
        const closing = this.name();
        this.skipSpace();
        if (closing !== qname) throw new XmlError('mismatched end tag', this.pos);
        if (this.src[this.pos] !== '>') throw new XmlError('expected ">" to end the end tag', this.pos);
        this.pos += 1;
        node.text = text.join('');
        return node;
      }
      if (this.src.startsWith('<![CDATA[', this.pos)) {
        const end = this.src.indexOf(']]>', this.pos + 9);
        if (end < 0) throw new XmlError('unterminated CDATA section', this.pos);
        text.push(this.src.slice(this.pos + 9, end));
        this.pos = end + 3;
      } else if (this.src.startsWith('<!--', this.pos)) {
        this.skipPast('-->', 'comment');
      } else if (this.src.startsWith('<?', this.pos)) {
        this.skipPast('?>', 'processing instruction');
      } else if (this.src.startsWith('<!', this.pos)) {
        throw new XmlError('declarations are not accepted inside elements', this.pos);
      } else {
        node.children.push(this.element(inner, depth + 1));
      }
    }
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.src);
    if (!match) throw new XmlError('expected a name', this.pos);
    this.pos += match[0].length;
    return match[0];
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos += 1;
    }
    return this.pos > start;
  }

  private skipPast(terminator: string, what: string): void {
    const end = this.src.indexOf(terminator, this.pos + 2);
    if (end < 0) throw new XmlError(`unterminated ${what}`, this.pos);
    this.pos = end + terminator.length;
  }
}

function resolve(qname: string, scope: Map<string, string | undefined>, isElement: boolean, at: number): { local: string; ns: string | undefined } {
  const colon = qname.indexOf(':');
  if (colon < 0) return { local: qname, ns: isElement ? scope.get('') : undefined };
  const prefix = qname.slice(0, colon);
  if (prefix === 'xmlns') return { local: qname.slice(colon + 1), ns: XMLNS_NS };
  const ns = scope.get(prefix);
  if (ns === undefined) throw new XmlError('undeclared namespace prefix', at);
  return { local: qname.slice(colon + 1), ns };
}

function decodeEntities(text: string, at: number): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&\s]{0,12});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError('unterminated character reference', at);
    const named = PREDEFINED[ref];
    if (named !== undefined) return named;
    const numeric = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (!numeric) throw new XmlError('unknown entity', at);
    const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : Number(numeric[2]);
    if (!isXmlChar(code)) throw new XmlError('character reference to a character XML does not allow', at);
    return String.fromCodePoint(code);
  });
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

/** Thrown for a value XML 1.0 cannot carry; names no value, so it may be logged. */
export class XmlValueError extends Error {
  constructor(readonly field: string) {
    super(`${field} holds a character XML cannot carry`);
    this.name = 'XmlValueError';
  }
}

/**
 * Escapes a value for element content. A CR is written as a reference because a parser would otherwise
 * turn it into LF and a password containing one would change on the way.
 */
export function escapeXmlText(value: string, field: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (!isXmlChar(code)) throw new XmlValueError(field);
    switch (char) {
      case '&':
        out += '&amp;';
        break;
      case '<':
        out += '&lt;';
        break;
      case '>':
        out += '&gt;';
        break;
      case '"':
        out += '&quot;';
        break;
      case "'":
        out += '&apos;';
        break;
      case '\r':
        out += '&#13;';
        break;
      default:
        out += char;
    }
  }
  return out;
}

export function child(parent: XmlElement | undefined, local: string, ns?: string): XmlElement | undefined {
  return parent?.children.find((c) => c.local === local && (ns === undefined || c.ns === ns));
}

export function children(parent: XmlElement | undefined, local: string, ns?: string): XmlElement[] {
  return parent?.children.filter((c) => c.local === local && (ns === undefined || c.ns === ns)) ?? [];
}

const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

export function isNil(element: XmlElement): boolean {
  return element.attributes.some((a) => a.local === 'nil' && a.ns === XSI_NS && (a.value.trim() === 'true' || a.value.trim() === '1'));
}

/** The text of a child element; undefined when absent or xsi:nil. */
export function childText(parent: XmlElement | undefined, local: string, ns?: string): string | undefined {
  const element = child(parent, local, ns);
  if (!element || isNil(element)) return undefined;
  return element.text;
}
