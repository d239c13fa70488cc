import { parseXml } from './parse';
import { soapEnvelope } from './soap';
import { XmlValueError, el, escapeXml, escapeXmlStrict, leaf, serializeXml } from './write';

describe('escaping', () => {
  it('escapes markup and drops characters XML 1.0 cannot carry', () => {
    expect(serializeXml(leaf('v', 'a<b>&"c"\r\u0001'))).toBe('<v>a&lt;b&gt;&amp;"c"&#xD;</v>');
    expect(serializeXml(el('e', [], { a: 'x"\n<' }))).toBe('<e a="x&quot;&#xA;&lt;" />');
    expect(parseXml(serializeXml(leaf('v', 'p&<>"\'\t\n'))).text).toBe('p&<>"\'\t\n');
    expect(escapeXml('a\u0000b\uD800c', true)).toBe('abc');
  });

  it('round-trips text and attribute values, CR, LF and tab included', () => {
    const value = 'p\r\nw<&>"\'\tx';
    const back = parseXml(serializeXml(el('e', [leaf('t', value)], { a: value })));
    expect(back.text).toBe('');
    expect(back.children[0]?.text).toBe(value);
    expect(back.attributes[0]?.value).toBe(value);
  });

  it('refuses characters XML cannot carry when strict, naming only the field', () => {
    expect(escapeXmlStrict(`a<b>&"c'\r\n`, 'f')).toBe(`a&lt;b&gt;&amp;"c'&#xD;\n`);
    expect(parseXml(`<x>${escapeXmlStrict('p\r\nw<&>', 'f')}</x>`).text).toBe('p\r\nw<&>');
    expect(() => escapeXmlStrict('secret\u0001value', 'password')).toThrow(new XmlValueError('password'));
    expect(() => escapeXmlStrict('secret\u0001value', 'password')).toThrow('password holds a character XML cannot carry');
    expect(() => escapeXmlStrict('secret\u0001value', 'password')).not.toThrow(/secret/);
    expect(() => serializeXml(el('r', [leaf('password', 'x\u0001')]), { strict: true })).toThrow('password holds a character XML cannot carry');
    expect(() => serializeXml(el('r', [], { key: 'x\u0001' }), { strict: true })).toThrow('r@key holds a character XML cannot carry');
  });
});

describe('builders', () => {
  it('leaves out falsy children and writes booleans and numbers as .NET does', () => {
    expect(serializeXml(el('r', [leaf('a', true), false, null, undefined, leaf('b', 0), leaf('c', '')]))).toBe('<r><a>true</a><b>0</b><c /></r>');
  });

  it('writes a SOAP 1.1 envelope the way ASP.NET does', () => {
    expect(soapEnvelope([el('Op', [leaf('x', 1)], { xmlns: 'urn:s' })])).toBe(
      '<?xml version="1.0" encoding="utf-8"?>' +
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
        '<soap:Body><Op xmlns="urn:s"><x>1</x></Op></soap:Body></soap:Envelope>',
    );
    expect(() => soapEnvelope([leaf('password', '\u0001')], { strict: true })).toThrow(XmlValueError);
  });
});
