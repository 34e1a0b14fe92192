import fc from 'fast-check';
import { contactToken, maskName, maskPhone, maskText } from './mask';

describe('PII masking', () => {
  it('masks names keeping the first character', () => {
    expect(maskName('张三')).toBe('张*');
    expect(maskName('欧阳娜娜')).toBe('欧***');
    expect(maskName('')).toBeNull();
    expect(maskName(null)).toBeNull();
  });

  it('masks mobile and landline numbers', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+86 138-1234-5678')).toBe('138****5678');
    expect(maskPhone('0551-62345678')).toBe('**********78');
  });

  it('masks numbers inside free text', () => {
    const t = maskText('我的电话13812345678，身份证340104199001011234，座机0551-62345678，邮箱zhang.san@example.com');
    expect(t).toBe('我的电话138****5678，身份证340104************，座机0551-******78，邮箱***@example.com');
  });

  it('leaves ordinary numbers (years, house numbers, amounts) alone', () => {
    const t = '2019年3月，幸福路12号3栋，罚款350元';
    expect(maskText(t)).toBe(t);
  });

  it('never lets an 11-digit mobile number through (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.integer({ min: 3, max: 9 }), fc.nat({ max: 99999999 }), fc.string({ maxLength: 20 }), (pre, second, rest, post) => {
        const phone = `1${second}${String(rest).padStart(9, '0')}`;
        const out = maskText(`${pre} ${phone} ${post}`);
        return !out.includes(phone);
      }),
      { numRuns: 500 },
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
});
