import fc from 'fast-check';
import { contactToken, findIdentifiers, foldText, maskName, maskPhone, maskText, maskUrl, prepareIdentity, tokenizeValue } from './mask';

describe('PII masking', () => {
  it('masks names keeping the first character', () => {
    expect(maskName('张三')).toBe('张*');
    expect(maskName('欧阳娜娜')).toBe('欧***');
    expect(maskName('')).toBeNull();
    expect(maskName(null)).toBeNull();
  });

  it('masks mobile and landline numbers in phone fields, in any rendering', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+86 138-1234-5678')).toBe('138****5678');
    expect(maskPhone('１３８１２３４５６７８')).toBe('138****5678');
    expect(maskPhone('0551-62345678')).toBe('**********78');
  });

  it('masks numbers inside free text', () => {
    const t = maskText('我的电话13812345678，身份证340104199001011234，座机0551-62345678，邮箱zhang.san@example.com');
    expect(t).toBe('我的电话138****5678，身份证340104************，座机0551-******78，邮箱***@example.com');
  });

  it.each([
    ['separators', '手机 138 1234 5678 或 139.1234.5678、137–1234–5678', '手机 138****5678 或 139****5678、137****5678'],
    ['country codes', '+86 138-1234-5678，0086 13712345678，8615912345678', '138****5678，137****5678，159****5678'],
    ['full width', '电话１３８１２３４５６７８', '电话138****5678'],
    ['Chinese numerals (幺)', '我的号码是幺三八幺二三四五六七八', '我的号码是138****5678'],
    ['one digit per token', '号码是 1 3 8 1 2 3 4 5 6 7 8', '号码是 138****5678'],
    ['landline forms', '(0551)62345678转8021，010-87654321-123，电话62345678号', '0551-******78转8021，010-******21-123，电话******78号'],
    ['+86 landline', '+86 551 62345678', '0551-******78'],
    ['ID number groupings', '340104 19900101 1234，ID340104199001011234abc，34010419900101123x', '340104************，ID340104************abc，340104************'],
    ['legacy 15-digit ID', '旧身份证340104900101123', '旧身份证340104*********'],
    ['bank card (Luhn)', '卡号 6222 0212 3456 7890 128', '卡号 ***************0128'],
    ['e-mail with ＠', 'foo.bar＠qq.com', '***@qq.com'],
    ['plates', '湘A·12345，粤B D12345，京AD12345', '湘A****5，粤B*****5，京A*****5'],
    ['QQ and WeChat', 'QQ：12345678，微信号 zhang_san88', 'QQ：********，微信号 ********'],
    // regression (issue 11 leak scan): ten digits from 400/800 were left alone as a service line
    ['QQ and WeChat numbers that start like a 400/800 line', 'qq号8009210766，扣扣 4001234567，微信：8001234567', 'qq号**********，扣扣 **********，微信：**********'],
    ['passport', '护照E12345678', '护照E********'],
    ['names after cue words', '我叫张三，联系人：李四 本人王小明反映', '我叫张*，联系人：李* 本人王**反映'],
  ])('finds %s', (_what, input, expected) => {
    expect(maskText(input)).toBe(expected);
  });

  it('leaves ordinary numbers, dates, amounts, addresses and codes alone', () => {
    for (const t of [
      '2019年3月，幸福路12号3栋2单元501室，罚款350元',
      '拨打12345热线，110报警，客服400-0745-333',
      'GB/T 35273-2020，2019-03-15 10:30，2017-2018学年',
      '共计2345678元，2345678.90元，投资20000000元，面积3000000平方米',
      '网格编码340104001002003，工单GD202601050001',
      '我是高新区居民，我是高三学生，业主利益受损，本人曾多次反映',
    ])
      expect(maskText(t)).toBe(t);
  });

  it('masks the reporter’s own name, phone and user id wherever they recur', () => {
    const id = prepareIdentity({ names: ['赵六'], phones: ['62345678'], ids: ['oUser12345'] });
    expect(maskText('赵 六说他的电话62345678号，openid oUser12345', id)).toBe('赵*说他的电话******78号，openid ********');
    expect(maskText('Jane Doe called', prepareIdentity({ names: ['Jane Doe'] }))).toBe('J****** called');
  });

  it('folds without changing offsets', () => {
    const s = '电话１３８幺二三　x';
    expect(foldText(s)).toHaveLength(s.length);
    expect(foldText(s)).toBe('电话138123 x');
  });

  it('masks URLs: personal parameters, values, path segments; no user info or fragment', () => {
    expect(maskUrl('https://u:p@img.example.cn/13812345678/a.jpg?phone=62345678&note=%E6%89%8B%E6%9C%BA13912345678&size=2#x')).toBe('https://img.example.cn/138****5678/a.jpg?phone=***&note=%E6%89%8B%E6%9C%BA139****5678&size=2');
    expect(maskUrl('ftp://x')).toBeNull();
    expect(maskUrl('not a url')).toBeNull();
  });

  it('reports what it found with offsets and kinds', () => {
    expect(findIdentifiers('电话13812345678').map((f) => [f.kind, f.start, f.end])).toEqual([['mobile', 2, 13]]);
  });

  it('never lets a mobile, ID number or card through, whatever surrounds it (property)', () => {
    const arb = fc.oneof(
      fc.tuple(fc.constantFrom('3', '5', '7', '8', '9'), fc.stringMatching(/^\d{9}$/)).map(([b, r]) => `1${b}${r}`),
      fc.tuple(fc.constantFrom('340104', '110101'), fc.integer({ min: 1950, max: 2010 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 10, max: 28 }), fc.stringMatching(/^\d{4}$/)).map(([r, y, m, d, q]) => `${r}${y}${String(m).padStart(2, '0')}${d}${q}`),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), arb, fc.constantFrom('', ' ', '-', '.'), fc.string({ maxLength: 20 }), (pre, id, sep, post) => {
        const rendered = sep ? `${id.slice(0, 3)}${sep}${id.slice(3, 7)}${sep}${id.slice(7)}` : id;
        const out = maskText(`${pre} ${rendered} ${post}`).replace(/\D/g, '');
        return !out.includes(id);
      }),
      { numRuns: 1000 },
    );
  });

  it('contact tokens are keyed, stable and normalised', () => {
    const a = contactToken('s1', 'phone', '138 1234 5678');
    expect(a).toMatch(/^ct1_[0-9a-f]{32}$/);
    expect(contactToken('s1', 'phone', '+8613812345678')).toBe(a);
    expect(contactToken('s2', 'phone', '13812345678')).not.toBe(a);
    expect(contactToken('s1', 'user', '13812345678')).not.toBe(a);
    expect(a).not.toContain('5678');
  });

  it('value tokens keep a short prefix, depend on the secret and the scope', () => {
    const t = tokenizeValue('s1', 'source', 'o311-abcdef');
    expect(t).toMatch(/^o311-[0-9a-f]{32}$/);
    expect(tokenizeValue('s2', 'source', 'o311-abcdef')).not.toBe(t);
    expect(tokenizeValue('s1', 'field:x', 'o311-abcdef')).not.toBe(t);
    expect(tokenizeValue('s1', 'source', '13812345678')).toMatch(/^tk1-[0-9a-f]{32}$/);
  });
});
