import { XmlParseError, parseXml } from './parse';
import { childText } from './query';

function parseError(xml: string): XmlParseError {
  try {
    parseXml(xml);
  } catch (error) {
    if (error instanceof XmlParseError) return error;
    throw error;
  }
  throw new Error('the document was accepted');
}

describe('parseXml', () => {
  it('reads namespaces by URI whatever the prefixes, entities, character references and CDATA', () => {
    const root = parseXml(
      '<?xml version="1.0"?><!-- c --><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>' +
        '<R xmlns="urn:x"><a>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;</a><b><![CDATA[<raw & text>]]></b><c x:nil="true" xmlns:x="http://www.w3.org/2001/XMLSchema-instance"/></R>' +
        '</e:Body></e:Envelope>',
    );
    expect(root).toMatchObject({ name: 'e:Envelope', local: 'Envelope', ns: 'http://schemas.xmlsoap.org/soap/envelope/' });
    const r = root.children[0]?.children[0];
    expect(r).toMatchObject({ local: 'R', ns: 'urn:x' });
    expect(r?.children.map((c) => [c.local, c.ns, c.text])).toEqual([
      ['a', 'urn:x', `<&>"'AB`],
      ['b', 'urn:x', '<raw & text>'],
      ['c', 'urn:x', ''],
    ]);
    expect(childText(r, 'c')).toBeUndefined();
  });

  it('keeps namespace declarations out of the attributes, and leaves unprefixed attributes in no namespace', () => {
    const root = parseXml('<r xmlns="urn:d" xmlns:p="urn:p" a="1" p:b="2" xml:lang="en"><inner xmlns=""/></r>');
    expect(root.attributes).toEqual([
      { name: 'a', local: 'a', ns: undefined, value: '1' },
      { name: 'p:b', local: 'b', ns: 'urn:p', value: '2' },
      { name: 'xml:lang', local: 'lang', ns: 'http://www.w3.org/XML/1998/namespace', value: 'en' },
    ]);
    expect(root.children[0]).toMatchObject({ local: 'inner', ns: undefined });
  });

  it('normalises literal white space in attribute values but keeps the characters written as references', () => {
    expect(parseXml('<e a="x\r\ny\tz&#xA;&#x9;&#xD;"/>').attributes[0]?.value).toBe('x y z\n\t\r');
  });

  it('skips a byte order mark, comments and processing instructions', () => {
    expect(parseXml('\uFEFF<?xml version="1.0"?><!--a--><x><?pi x?>t<!-- b -->u</x><!--c-->').text).toBe('tu');
  });

  it.each([
    ['a document type declaration', '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'],
    ['a lower-case document type declaration', '<!doctype x><x/>'],
    ['a declaration inside an element', '<x><!ENTITY a "b"></x>'],
    ['an unknown entity', '<x>&nope;</x>'],
    ['an entity named after an object property', '<x>&constructor;</x>'],
    ['a bare ampersand', '<x>a & b</x>'],
    ['mismatched tags', '<x><y></x></y>'],
    ['an undeclared prefix', '<p:x/>'],
    ['an undeclared attribute prefix', '<x p:a="1"/>'],
    ['an undeclared prefix declaration', '<x xmlns:p=""/>'],
    ['content after the root', '<x/><y/>'],
    ['a reference to NUL', '<x>&#0;</x>'],
    ['unterminated input', '<x><y>'],
    ['an unterminated start tag', '<soap:Envelope'],
    ['a duplicate attribute', '<x a="1" a="2"/>'],
    ['"<" in an attribute value', '<x a="<"/>'],
    ['an unquoted attribute value', '<x a=1/>'],
    ['"]]>" in text', '<x>a]]>b</x>'],
    ['no root element', '  '],
  ])('refuses %s without echoing the document', (_what, xml) => {
    const error = parseError(xml);
    expect(error).toBeInstanceOf(XmlParseError);
    expect(error.message).not.toMatch(/nope|constructor|\bp\b|Envelope/);
  });

  it('keeps the names the document used out of the message, and gives them in detailedMessage', () => {
    const unknown = parseError('<x>&nope;</x>');
    expect(unknown.message).toBe('Reference to undeclared or invalid entity (line 1, position 4)');
    expect(unknown.detailedMessage).toBe("Reference to undeclared or invalid entity 'nope' (line 1, position 4)");
    const prefix = parseError('<secretprefix:x/>');
    expect(prefix.message).not.toContain('secretprefix');
    expect(prefix.detailedMessage).toMatch(/'secretprefix' is an undeclared prefix/);
    const mismatch = parseError('<outer><inner></outer>');
    expect(mismatch.message).not.toMatch(/inner|outer/);
    expect(mismatch.detailedMessage).toMatch(/The end tag <\/outer> does not match <inner>/);
    // the details stay off the error's own enumerable properties, so a logger serialising it does not see them
    expect(JSON.stringify(unknown)).not.toContain('nope');
  });

  it('reports the line and position of an error', () => {
    expect(() => parseXml('<a>\n  <b></a>')).toThrow(/line 2, position/);
    expect(() => parseXml('<a>&bogus;</a>')).toThrow(/undeclared or invalid entity/);
    expect(() => parseXml('<a>&#0;</a>')).toThrow(/invalid entity/);
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/Duplicate attribute/);
    expect(() => parseXml('<a/><b/>')).toThrow(/root level/);
    expect(() => parseXml('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>')).toThrow(/Document type declarations are not allowed/);
    expect(parseError('<a>\n  <b></a>')).toMatchObject({ line: 2, column: 9 });
  });

  it('bounds nesting depth and element count, by default and as asked', () => {
    expect(() => parseXml(`${'<a>'.repeat(100)}${'</a>'.repeat(100)}`)).toThrow(/nested too deeply/);
    expect(() => parseXml(`${'<a>'.repeat(10)}${'</a>'.repeat(10)}`, { maxDepth: 5 })).toThrow(/nested too deeply/);
    const wide = `<r>${'<a/>'.repeat(10_000)}</r>`;
    expect(() => parseXml(wide)).toThrow(/Too many elements/);
    expect(parseXml(wide, { maxElements: 20_000 }).children).toHaveLength(10_000);
  });
});
