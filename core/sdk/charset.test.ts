import fc from 'fast-check';
import iconv from 'iconv-lite';
import { PayloadError } from '../errors';
import { canonicalCharset, charsetParam, decodeBody, decodeStrict, encodeText, resolveCharset } from './charset';

describe('charset', () => {
  it('"市民" is CA D0 C3 F1 in GBK and GB18030 (cross-checked with Python: "市民".encode("gbk").hex() == "cad0c3f1")', () => {
    expect(encodeText('市民', 'gbk').toString('hex')).toBe('cad0c3f1');
    expect(encodeText('市民', 'gb18030').toString('hex')).toBe('cad0c3f1');
    expect(decodeStrict(Buffer.from('cad0c3f1', 'hex'), 'gbk')).toBe('市民');
    // 诉求 = CB DF C7 F3, 工单 = B9 A4 B5 A5 (GB2312 row/cell tables)
    expect(decodeStrict(Buffer.from('cbdfc7f3b9a4b5a5', 'hex'), 'gbk')).toBe('诉求工单');
  });

  it('GB18030 four-byte sequences (emoji outside GBK) decode; U+FFFD encoded legitimately is accepted', () => {
    expect(encodeText('😀', 'gb18030').toString('hex')).toBe('9439fc36');
    expect(decodeStrict(Buffer.from('9439fc36', 'hex'), 'gb18030')).toBe('😀');
    expect(decodeStrict(Buffer.from('8431a437', 'hex'), 'gb18030')).toBe('\uFFFD');
  });

  it('rejects undecodable bytes with INTAKE_ERR_BAD_ENCODING', () => {
    const cases: [string, 'gbk' | 'gb18030' | 'utf-8'][] = [
      ['cad0ff20', 'gbk'], // FF is never a GBK lead byte
      ['ca', 'gbk'], // truncated double-byte character
      ['8120', 'gbk'], // lead byte followed by an invalid trail byte
      ['9439fc', 'gb18030'], // truncated four-byte sequence
      ['e5b8', 'utf-8'],
      ['c0af', 'utf-8'], // overlong
    ];
    for (const [hex, cs] of cases) {
      let err: unknown;
      try {
        decodeStrict(Buffer.from(hex, 'hex'), cs);
      } catch (e) {
        err = e;
      }
      expect({ hex, err: err instanceof PayloadError ? err.code : String(err) }).toEqual({ hex, err: 'INTAKE_ERR_BAD_ENCODING' });
    }
  });

  it('GBK bytes declared as UTF-8 are rejected, not mis-decoded', () => {
    expect(() => decodeBody(encodeText('市民来电反映', 'gbk'), 'application/json; charset=utf-8')).toThrow(PayloadError);
  });

  it('reads the charset from Content-Type, with override and fallback', () => {
    expect(charsetParam('application/json; charset=GBK')).toBe('gbk');
    expect(charsetParam('application/json;charset="gb2312"')).toBe('gb2312');
    expect(charsetParam('application/json')).toBeNull();
    expect(resolveCharset('application/json; charset=GB2312')).toBe('gbk');
    expect(resolveCharset('application/json; charset=utf-8', 'gb18030')).toBe('gb18030');
    expect(resolveCharset('application/json', null, 'gbk')).toBe('gbk');
    expect(canonicalCharset('CP936')).toBe('gbk');
    expect(() => resolveCharset('text/plain; charset=shift_jis')).toThrow(/unsupported charset/);
    expect(decodeBody(encodeText('{"SQNR":"井盖破损"}', 'gbk'), 'application/json; charset=GBK')).toBe('{"SQNR":"井盖破损"}');
  });

  it('round-trips any GBK-encodable text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'市民来电反映小区井盖破损噪音扰民。，！？ABCabc0123 \n臺灣繁體字'.split('')), maxLength: 200 }), (s) => {
        expect(decodeStrict(iconv.encode(s, 'gbk'), 'gbk')).toBe(s);
        expect(decodeStrict(iconv.encode(s, 'gb18030'), 'gb18030')).toBe(s);
      }),
    );
  });

  it('never throws anything but a PayloadError on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom<'gbk' | 'gb18030' | 'utf-8'>('gbk', 'gb18030', 'utf-8'), (bytes, cs) => {
        try {
          const t = decodeStrict(Buffer.from(bytes), cs);
          expect(typeof t).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(PayloadError);
        }
      }),
    );
  });
});
