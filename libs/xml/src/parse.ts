/**
 * Just enough XML 1.0 for SOAP 1.1: elements, attributes, namespaces, the predefined and numeric character
 * references, CDATA, comments and processing instructions. A document type declaration is refused outright,
 * so no entity can be declared and expanded (XXE, billion laughs), and nesting depth and element count are
 * bounded, so a hostile or broken peer cannot make a document cost much.
 */
import { isXmlChar } from './chars';

export interface XmlElement {
  /** The name as written, prefix included. */
  name: string;
  local: string;
  /** Resolved namespace URI; undefined when unqualified and outside any default namespace. */
  ns: string | undefined;
  /** Namespace declarations (`xmlns`, `xmlns:p`) are not listed here: they are resolved into `ns`. */
  attributes: XmlAttribute[];
  children: XmlElement[];
  /** The element's own character data (text and CDATA) in order, without its children's. */
  text: string;
}

export interface XmlAttribute {
  name: string;
  local: string;
  /** Unprefixed attributes are in no namespace, whatever the default namespace is. */
  ns: string | undefined;
  value: string;
}

export interface XmlParseOptions {
  /** Deepest nesting accepted, the root being at depth 0; 64 unless given. */
  maxDepth?: number;
  /** Most elements a document may hold; 10 000 unless given. */
  maxElements?: number;
}

/**
 * `message` holds a fixed reason and a position and never any text of the document, so it is safe to log.
 * `detailedMessage` also names what the document used (a tag, a prefix, an entity), the way .NET's
 * XmlReader words it; it is meant for answering whoever sent the document, not for logs.
 */
export class XmlParseError extends Error {
  // A private field, so a logger that serialises an error's own properties does not pick the details up.
  readonly #detailedMessage: string;

  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    detail: string = reason,
  ) {
    super(`${reason} (line ${line}, position ${column})`);
    this.name = 'XmlParseError';
    this.#detailedMessage = `${detail} (line ${line}, position ${column})`;
  }

  get detailedMessage(): string {
    return this.#detailedMessage;
  }
}

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME = /[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9._\-\u00B7\u00C0-\uFFFF]*(?::[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9._\-\u00B7\u00C0-\uFFFF]*)?/y;
// A Map, not an object literal: `&constructor;` must not find Object.prototype.
const PREDEFINED = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['quot', '"'],
  ['apos', "'"],
]);
const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_ELEMENTS = 10_000;

type Scope = ReadonlyMap<string, string | undefined>;

export function parseXml(input: string, options: XmlParseOptions = {}): XmlElement {
  return new Reader(input, options.maxDepth ?? DEFAULT_MAX_DEPTH, options.maxElements ?? DEFAULT_MAX_ELEMENTS).document();
}

class Reader {
  private pos = 0;
  private elements = 0;

  constructor(
    private readonly src: string,
    private readonly maxDepth: number,
    private readonly maxElements: number,
  ) {}

  document(): XmlElement {
    if (this.src.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.misc();
    if (this.src[this.pos] !== '<') this.fail('Root element is missing');
    const root = this.element(new Map([['xml', XML_NS]]), 0);
    this.misc();
    if (this.pos < this.src.length) this.fail('Data at the root level is invalid');
    return root;
  }

  /** White space, comments and processing instructions (the XML declaration among them) around the root. */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.src.startsWith('<!--', this.pos)) this.skipPast('<!--', '-->', 'comment');
      else if (this.src.startsWith('<?', this.pos)) this.skipPast('<?', '?>', 'processing instruction');
      // DOCTYPE in any spelling, ENTITY and the rest: nothing may be declared that the reader would expand
      else if (this.src.startsWith('<!', this.pos)) this.fail('Document type declarations are not allowed');
      else return;
    }
  }

  private element(scope: Scope, depth: number): XmlElement {
    const start = this.pos;
    if (depth >= this.maxDepth) this.fail('Elements are nested too deeply');
    if (++this.elements > this.maxElements) this.fail('Too many elements');
    this.pos += 1; // '<'
    const name = this.name();
    const raw: Array<{ name: string; value: string }> = [];
    let selfClosing = false;
    for (;;) {
      const hadSpace = this.skipSpace();
      if (this.src.startsWith('/>', this.pos)) {
        this.pos += 2;
        selfClosing = true;
        break;
      }
      if (this.src[this.pos] === '>') {
        this.pos += 1;
        break;
      }
      if (this.pos >= this.src.length) this.fail('Unterminated start tag');
      if (!hadSpace) this.fail('Unexpected character in a start tag', `Unexpected character in tag <${name}>`);
      const attrName = this.name();
      this.skipSpace();
      this.expect('=');
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail('Attribute values must be quoted');
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail('Unterminated attribute value');
      const rawValue = this.src.slice(this.pos + 1, end);
      if (rawValue.includes('<')) this.fail("'<' is not allowed in an attribute value");
      if (raw.some((a) => a.name === attrName)) this.fail('Duplicate attribute', `Duplicate attribute ${attrName}`);
      // Literal white space is normalised before references are decoded (XML 1.0 section 3.3.3), so a value
      // written with &#xA; or &#x9; keeps those characters.
      raw.push({ name: attrName, value: this.decode(rawValue.replace(/\r\n|[\t\n\r]/g, ' '), this.pos + 1) });
      this.pos = end + 1;
    }

    const inner = new Map(scope);
    for (const a of raw) {
      if (a.name === 'xmlns') inner.set('', a.value === '' ? undefined : a.value);
      else if (a.name.startsWith('xmlns:')) {
        const prefix = a.name.slice(6);
        if (a.value === '') this.failAt(start, 'A namespace prefix cannot be undeclared', `The prefix ${prefix} cannot be undeclared`);
        inner.set(prefix, a.value);
      }
    }
    const node: XmlElement = {
      name,
      ...this.resolve(name, inner, true, start),
      attributes: raw
        .filter((a) => a.name !== 'xmlns' && !a.name.startsWith('xmlns:'))
        .map((a) => ({ name: a.name, ...this.resolve(a.name, inner, false, start), value: a.value })),
      children: [],
      text: '',
    };
    if (selfClosing) return node;

    const text: string[] = [];
    for (;;) {
      const lt = this.src.indexOf('<', this.pos);
      if (lt < 0) this.fail('An element is not closed', `Element <${name}> is not closed`);
      if (lt > this.pos) {
        const chunk = this.src.slice(this.pos, lt);
        const cdataEnd = chunk.indexOf(']]>');
        if (cdataEnd >= 0) this.failAt(this.pos + cdataEnd, "']]>' is not allowed in text");
        text.push(this.decode(chunk, this.pos));
        this.pos = lt;
      }
      if (this.src.startsWith('</', this.pos)) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== name) this.fail('The end tag does not match the start tag', `The end tag </${closing}> does not match <${name}>`);
        this.skipSpace();
        this.expect('>');
        node.text = text.join('');
        return node;
      }
      if (this.src.startsWith('<![CDATA[', this.pos)) {
        const end = this.src.indexOf(']]>', this.pos + 9);
        if (end < 0) this.fail('Unterminated CDATA section');
        text.push(this.src.slice(this.pos + 9, end));
        this.pos = end + 3;
      } else if (this.src.startsWith('<!--', this.pos)) {
        this.skipPast('<!--', '-->', 'comment');
      } else if (this.src.startsWith('<?', this.pos)) {
        this.skipPast('<?', '?>', 'processing instruction');
      } else if (this.src.startsWith('<!', this.pos)) {
        this.fail('Markup declarations are not allowed');
      } else {
        node.children.push(this.element(inner, depth + 1));
      }
    }
  }

  private resolve(qname: string, scope: Scope, isElement: boolean, at: number): { local: string; ns: string | undefined } {
    const colon = qname.indexOf(':');
    if (colon < 0) return { local: qname, ns: isElement ? scope.get('') : undefined };
    const prefix = qname.slice(0, colon);
    const ns = scope.get(prefix);
    if (ns === undefined) this.failAt(at, 'An undeclared namespace prefix was used', `'${prefix}' is an undeclared prefix`);
    return { local: qname.slice(colon + 1), ns };
  }

  /** Decodes the references in `raw`, which starts at `offset` of the document. */
  private decode(raw: string, offset: number): string {
    if (!raw.includes('&')) return raw;
    // Reference names are bounded, so a stray "&" cannot make the scan run on.
    return raw.replace(/&([^;&\s<]{0,12})(;?)/g, (_whole: string, ref: string, semicolon: string, at: number) => {
      if (semicolon === '') this.failAt(offset + at, 'An entity reference is not terminated by ";"');
      const named = PREDEFINED.get(ref);
      if (named !== undefined) return named;
      const numeric = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
      const code = numeric ? (numeric[1] !== undefined ? parseInt(numeric[1], 16) : Number(numeric[2])) : NaN;
      if (!isXmlChar(code)) this.failAt(offset + at, 'Reference to undeclared or invalid entity', `Reference to undeclared or invalid entity '${ref}'`);
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
    while (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos += 1;
    }
    return this.pos > start;
  }

  private skipPast(opener: string, terminator: string, what: string): void {
    const end = this.src.indexOf(terminator, this.pos + opener.length);
    if (end < 0) this.fail(`Unterminated ${what}`);
    this.pos = end + terminator.length;
  }

  private expect(char: string): void {
    if (this.src[this.pos] !== char) this.fail(`'${char}' was expected`);
    this.pos += 1;
  }

  private fail(reason: string, detail?: string): never {
    return this.failAt(this.pos, reason, detail);
  }

  private failAt(offset: number, reason: string, detail?: string): never {
    const before = this.src.slice(0, offset);
    throw new XmlParseError(reason, before.split('\n').length, offset - before.lastIndexOf('\n'), detail);
  }
}
