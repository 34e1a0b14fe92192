import iconv from 'iconv-lite';
import fc from 'fast-check';
import { PayloadError } from '../errors';
import { escapeXml, flatXml, parseXml } from './xml';

const xml = (s: string): Buffer => Buffer.from(s, 'utf8');

function rejected(body: Buffer, limits = {}): PayloadError {
  try {
    parseXml(body, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(PayloadError);
    return e as PayloadError;
  }
  throw new Error('expected a PayloadError');
}

describe('parseXml: well-formed input', () => {
  it('parses elements, attributes, CDATA, comments, predefined and numeric references; values stay strings', () => {
    const doc = parseXml(xml('<?xml version="1.0" encoding="UTF-8"?>\n<JQXX v="1"><JQBH>0012</JQBH><JD>117.28</JD><T>A&amp;B &lt;&#x4E2D;&#25991;&gt;</T><C><![CDATA[<b>x</b>]]></C><!-- note --><E/><R>1</R><R>2</R></JQXX>'));
    expect(doc).toEqual({ JQXX: { '@_v': '1', JQBH: '0012', JD: '117.28', T: 'A&B <中文>', C: '<b>x</b>', E: '', R: ['1', '2'] } });
  });

  it('decodes GBK when the declaration says so', () => {
    const body = iconv.encode('<?xml version="1.0" encoding="GBK"?><JQXX><JYQK>小区噪音扰民，張某反映</JYQK></JQXX>', 'gbk');
    expect(parseXml(body)).toEqual({ JQXX: { JYQK: '小区噪音扰民，張某反映' } });
  });

  it('keeps emoji and traditional characters in UTF-8', () => {
    expect(parseXml(xml('<a>路燈壞了 💡</a>'))).toEqual({ a: '路燈壞了 💡' });
  });
});

describe('parseXml: hostile input is rejected with a PayloadError before any parser sees it', () => {
  it('billion laughs', () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>`;
    const e = rejected(xml(lol));
    expect(e.code).toBe('INTAKE_ERR_PAYLOAD_INVALID');
    expect(e.message).toMatch(/DOCTYPE/);
  });

  it('XXE (file:///etc/passwd), with and without a DOCTYPE', () => {
    expect(rejected(xml('<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><JQXX><JYQK>&xxe;</JYQK></JQXX>')).message).toMatch(/DOCTYPE/);
    expect(rejected(xml('<JQXX><JYQK>&xxe;</JYQK></JQXX>')).message).toMatch(/entity reference at offset 12 is not allowed/);
    // the entity's name is the sender's text: never echoed
    expect(rejected(xml('<JQXX><JYQK>&xxe;</JYQK></JQXX>')).message).not.toContain('xxe');
    expect(rejected(xml('<!ENTITY xxe SYSTEM "file:///etc/passwd"><a/>')).message).toMatch(/ENTITY/);
  });

  it('a 10 MB body', () => {
    const big = Buffer.concat([xml('<a>'), Buffer.alloc(10 * 1024 * 1024, 0x61), xml('</a>')]);
    const e = rejected(big);
    expect(e.code).toBe('INTAKE_ERR_PAYLOAD_TOO_LARGE');
    expect(e.httpStatus).toBe(413);
  });

  it('10,000-deep nesting', () => {
    expect(rejected(xml('<a>'.repeat(10000) + '</a>'.repeat(10000))).message).toMatch(/nesting depth/);
  });

  it('invalid UTF-8, undecodable GBK, unknown and UTF-16 encodings', () => {
    expect(rejected(Buffer.concat([xml('<a>'), Buffer.from([0xc3, 0x28, 0xff]), xml('</a>')])).code).toBe('INTAKE_ERR_BAD_ENCODING');
    expect(rejected(Buffer.concat([xml('<?xml version="1.0" encoding="GBK"?><a>'), Buffer.from([0x81, 0x20]), xml('</a>')])).code).toBe('INTAKE_ERR_BAD_ENCODING');
    expect(rejected(xml('<?xml version="1.0" encoding="EBCDIC-XYZ"?><a/>')).message).toMatch(/not accepted/);
    expect(rejected(Buffer.from('\ufeff<a/>', 'utf16le')).code).toBe('INTAKE_ERR_BAD_ENCODING');
  });

  it('processing instructions other than the leading declaration', () => {
    expect(rejected(xml('<?xml version="1.0"?><?xml-stylesheet href="x"?><a/>')).message).toMatch(/processing instruction/);
    expect(rejected(xml('<a><?php system("id"); ?></a>')).message).toMatch(/processing instruction/);
    expect(rejected(xml('<a/><?xml version="1.0"?>')).message).toMatch(/must come first/);
  });

  it('element and attribute limits, prototype-polluting names, illegal character references', () => {
    expect(rejected(xml('<a>' + '<b/>'.repeat(20)), { maxElements: 10 }).message).toMatch(/more than 10 elements/);
    expect(rejected(xml(`<a ${Array.from({ length: 40 }, (_, i) => `x${i}="1"`).join(' ')}/>`)).message).toMatch(/more than 32 attributes/);
    expect(rejected(xml('<a><__proto__>x</__proto__></a>')).message).toMatch(/not allowed/);
    expect(rejected(xml('<a constructor="1"/>')).message).toMatch(/not allowed/);
    expect(rejected(xml('<a>&#0;</a>')).message).toMatch(/not a legal XML character/);
    expect(rejected(xml('<a>&nbsp;</a>')).message).toMatch(/entity reference/);
  });

  it('malformed XML', () => {
    expect(rejected(xml('<a><b></a>')).message).toMatch(/well-formed/);
    expect(rejected(xml('<a>')).message).toMatch(/well-formed|Unclosed/);
    expect(rejected(xml('<a/><b/>')).message).toMatch(/well-formed|root/);
    expect(rejected(xml('not xml at all')).message).toMatch(/well-formed/);
  });

  it('property: arbitrary bytes and strings never throw anything but a PayloadError', () => {
    const check = (b: Buffer): boolean => {
      try {
        parseXml(b);
        return true;
      } catch (e) {
        return e instanceof PayloadError;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (a) => check(Buffer.from(a))), { numRuns: 300 });
    const token = fc.constantFrom('<a>', '</a>', '<b x="1">', '</b>', '<!--', '-->', '<![CDATA[', ']]>', '&amp;', '&', '<?xml version="1.0"?>', '<!DOCTYPE', '"', '>', '/>', 'text');
    fc.assert(fc.property(fc.array(token, { maxLength: 30 }), (ts) => check(xml(ts.join('')))), { numRuns: 500 });
  });
});

describe('receipts', () => {
  it('escapes values and skips nulls', () => {
    expect(escapeXml(`<&>'"`)).toBe('&lt;&amp;&gt;&apos;&quot;');
    const s = flatXml('QSHZ', { JQBH: 'A<1>', JG: 'QS', THYY: null });
    expect(s).toBe('<?xml version="1.0" encoding="UTF-8"?><QSHZ><JQBH>A&lt;1&gt;</JQBH><JG>QS</JG></QSHZ>');
    expect(parseXml(xml(s))).toEqual({ QSHZ: { JQBH: 'A<1>', JG: 'QS' } });
  });
});
