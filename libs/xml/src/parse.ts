/**
 * Just enough XML 1.0 for SOAP 1.1: elements, attributes, namespaces, the predefined and numeric character
 * references, CDATA, comments and processing instructions. A document type declaration is refused outright,
 * so no entity can be declared and expanded (XXE, billion laughs). The reader does work in proportion to its
 * input (attribute duplicates through a set, namespace prefixes through one stack per prefix rather than a
 * copied scope per element), and it bounds depth, elements, attributes, names, namespace declarations and
 * text, so a hostile or broken peer cannot make a document cost much.
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
  /** Most attributes one start tag may carry, namespace declarations included; 64 unless given. */
  maxAttributesPerElement?: number;
  /** Most attributes the whole document may hold, namespace declarations included; 20 000 unless given. */
  maxAttributes?: number;
  /** Most namespace declarations in the document, which also bounds how many are in scope at once; 256 unless given. */
  maxNamespaceDeclarations?: number;
  /** Longest element or attribute name, prefix included, in characters; 256 unless given. */
  maxNameLength?: number;
  /** Longest text of one element (its character data and CDATA) or one attribute value, in characters; 1 MiB unless given. */
  maxTextLength?: number;
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
const DEFAULTS: Required<XmlParseOptions> = {
  maxDepth: 64,
  maxElements: 10_000,
  maxAttributesPerElement: 64,
  maxAttributes: 20_000,
  maxNamespaceDeclarations: 256,
  maxNameLength: 256,
  maxTextLength: 1024 * 1024,
};

export function parseXml(input: string, options: XmlParseOptions = {}): XmlElement {
  const limits = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as Array<keyof XmlParseOptions>) limits[key] = options[key] ?? DEFAULTS[key];
  return new Reader(input, limits).document();
}

class Reader {
  private pos = 0;
  private elements = 0;
  private attributes = 0;
  private declarations = 0;
  /**
   * The namespace in scope for each prefix ('' for the default namespace) is the top of its stack: an
   * element pushes what it declares and pops it at its end, so a lookup costs the same however many
   * declarations enclose it.
   */
  private readonly bindings = new Map<string, Array<string | undefined>>([['xml', [XML_NS]]]);

  constructor(
    private readonly src: string,
    private readonly limits: Required<XmlParseOptions>,
  ) {}

  document(): XmlElement {
    if (this.src.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.misc();
    if (this.src[this.pos] !== '<') this.fail('Root element is missing');
    const root = this.element(0);
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

  private element(depth: number): XmlElement {
    const start = this.pos;
    if (depth >= this.limits.maxDepth) this.fail('Elements are nested too deeply');
    if (++this.elements > this.limits.maxElements) this.fail('Too many elements');
    this.pos += 1; // '<'
    const name = this.name();
    const raw: Array<{ name: string; value: string }> = [];
    const seen = new Set<string>();
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
      if (raw.length >= this.limits.maxAttributesPerElement) this.fail('Too many attributes on an element');
      if (++this.attributes > this.limits.maxAttributes) this.fail('Too many attributes');
      const attrName = this.name();
      this.skipSpace();
      this.expect('=');
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail('Attribute values must be quoted');
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail('Unterminated attribute value');
      if (end - this.pos - 1 > this.limits.maxTextLength) this.fail('An attribute value is too long');
      const rawValue = this.src.slice(this.pos + 1, end);
      if (rawValue.includes('<')) this.fail("'<' is not allowed in an attribute value");
      if (seen.has(attrName)) this.fail('Duplicate attribute', `Duplicate attribute ${attrName}`);
      seen.add(attrName);
      // Literal white space is normalised before references are decoded (XML 1.0 section 3.3.3), so a value
      // written with &#xA; or &#x9; keeps those characters.
      raw.push({ name: attrName, value: this.decode(rawValue.replace(/\r\n|[\t\n\r]/g, ' '), this.pos + 1) });
      this.pos = end + 1;
    }

    const declared = this.declare(raw, start);
    const node: XmlElement = {
      name,
      ...this.resolve(name, true, start),
      attributes: raw
        .filter((a) => !isDeclaration(a.name))
        .map((a) => ({ name: a.name, ...this.resolve(a.name, false, start), value: a.value })),
      children: [],
      text: '',
    };
    if (!selfClosing) this.content(node, depth);
    for (const prefix of declared) this.bindings.get(prefix)?.pop();
    return node;
  }

  /** Brings the element's namespace declarations into scope; answers the prefixes to take out at its end. */
  private declare(raw: ReadonlyArray<{ name: string; value: string }>, at: number): string[] {
    const declared: string[] = [];
    for (const a of raw) {
      if (!isDeclaration(a.name)) continue;
      if (++this.declarations > this.limits.maxNamespaceDeclarations) this.failAt(at, 'Too many namespace declarations');
      const prefix = a.name === 'xmlns' ? '' : a.name.slice(6);
      if (prefix !== '' && a.value === '') this.failAt(at, 'A namespace prefix cannot be undeclared', `The prefix ${prefix} cannot be undeclared`);
      const stack = this.bindings.get(prefix);
      const uri = a.value === '' ? undefined : a.value;
      if (stack) stack.push(uri);
      else this.bindings.set(prefix, [uri]);
      declared.push(prefix);
    }
    return declared;
  }

  /** Text, CDATA, comments, processing instructions and child elements, up to and including the end tag. */
  private content(node: XmlElement, depth: number): void {
    const text: string[] = [];
    let textLength = 0;
    const addText = (chunk: string): void => {
      textLength += chunk.length;
      if (textLength > this.limits.maxTextLength) this.fail('The text of an element is too long');
      text.push(chunk);
    };
    for (;;) {
      const lt = this.src.indexOf('<', this.pos);
      if (lt < 0) this.fail('An element is not closed', `Element <${node.name}> is not closed`);
      if (lt > this.pos) {
        const chunk = this.src.slice(this.pos, lt);
        const cdataEnd = chunk.indexOf(']]>');
        if (cdataEnd >= 0) this.failAt(this.pos + cdataEnd, "']]>' is not allowed in text");
        addText(this.decode(chunk, this.pos));
        this.pos = lt;
      }
      if (this.src.startsWith('</', this.pos)) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== node.name) this.fail('The end tag does not match the start tag', `The end tag </${closing}> does not match <${node.name}>`);
        this.skipSpace();
        this.expect('>');
        node.text = text.join('');
        return;
      }
      if (this.src.startsWith('<![CDATA[', this.pos)) {
        const end = this.src.indexOf(']]>', this.pos + 9);
        if (end < 0) this.fail('Unterminated CDATA section');
        addText(this.src.slice(this.pos + 9, end));
        this.pos = end + 3;
      } else if (this.src.startsWith('<!--', this.pos)) {
        this.skipPast('<!--', '-->', 'comment');
      } else if (this.src.startsWith('<?', this.pos)) {
        this.skipPast('<?', '?>', 'processing instruction');
      } else if (this.src.startsWith('<!', this.pos)) {
        this.fail('Markup declarations are not allowed');
      } else {
        node.children.push(this.element(depth + 1));
      }
    }
  }

  private resolve(qname: string, isElement: boolean, at: number): { local: string; ns: string | undefined } {
    const colon = qname.indexOf(':');
    if (colon < 0) return { local: qname, ns: isElement ? this.inScope('') : undefined };
    const prefix = qname.slice(0, colon);
    const ns = this.inScope(prefix);
    if (ns === undefined) this.failAt(at, 'An undeclared namespace prefix was used', `'${prefix}' is an undeclared prefix`);
    return { local: qname.slice(colon + 1), ns };
  }

  private inScope(prefix: string): string | undefined {
    const stack = this.bindings.get(prefix);
    return stack?.[stack.length - 1];
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
    if (match[0].length > this.limits.maxNameLength) this.fail('A name is too long');
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
    let line = 1;
    let lineStart = 0;
    for (let at = this.src.indexOf('\n'); at >= 0 && at < offset; at = this.src.indexOf('\n', at + 1)) {
      line += 1;
      lineStart = at + 1;
    }
    throw new XmlParseError(reason, line, offset - lineStart + 1, detail);
  }
}

function isDeclaration(name: string): boolean {
  return name === 'xmlns' || name.startsWith('xmlns:');
}
