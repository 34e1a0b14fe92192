import { createHmac } from 'node:crypto';

/**
 * Personal data masking. Everything that leaves the hub on a ticket goes through these functions:
 * names keep their first character, phone numbers their first 3 and last 4 digits, ID numbers
 * their first 6 (region) and last 4 characters are replaced by stars entirely except the region.
 * Contact tokens are keyed HMACs, so repeat reporters can be linked without revealing who they are.
 */

export function maskName(name: string | null | undefined): string | null {
  if (name == null) return null;
  const chars = Array.from(name.trim());
  if (chars.length === 0) return null;
  if (chars.length === 1) return '*';
  return (chars[0] ?? '') + '*'.repeat(Math.min(chars.length - 1, 8));
}

export function normalizePhone(phone: string): string {
  let d = phone.replace(/[\s\-()（）]/g, '');
  if (d.startsWith('+86')) d = d.slice(3);
  else if (d.startsWith('0086')) d = d.slice(4);
  return d;
}

export function maskPhone(phone: string | null | undefined): string | null {
  if (phone == null) return null;
  const d = normalizePhone(phone);
  if (d.length === 0) return null;
  if (/^1\d{10}$/.test(d)) return `${d.slice(0, 3)}****${d.slice(7)}`;
  if (d.length <= 4) return '*'.repeat(d.length);
  // landlines and anything else: keep the last 2 digits only (area code + number would identify)
  return '*'.repeat(Math.min(d.length - 2, 16)) + d.slice(-2);
}

// Mainland mobile numbers, 18-digit resident ID numbers (last may be X), 15-digit legacy IDs,
// landlines with an area code, e-mail addresses. Digit runs are bounded by non-digits so that
// longer codes (order numbers) are not partly masked.
const ID18 = /(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])/g;
const ID15 = /(?<!\d)([1-9]\d{5})(\d{9})(?!\d)/g;
const MOBILE = /(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)/g;
const LANDLINE = /(?<!\d)(0\d{2,3})[- ]?(\d{7,8})(?!\d)/g;
const EMAIL = /([A-Za-z0-9._%+-]{1,64})@([A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24})/g;

/** Masks phone numbers, ID numbers and e-mail addresses inside free text. */
export function maskText(text: string): string {
  return text
    .replace(ID18, (_m, region: string) => `${region}${'*'.repeat(12)}`)
    .replace(MOBILE, (_m, a: string, _b: string, c: string) => `${a}****${c}`)
    .replace(ID15, (_m, region: string) => `${region}${'*'.repeat(9)}`)
    .replace(LANDLINE, (_m, area: string, num: string) => `${area}-${'*'.repeat(num.length - 2)}${num.slice(-2)}`)
    .replace(EMAIL, (_m, _local: string, domain: string) => `***@${domain}`);
}

/**
 * A keyed, non-reversible token for linking reports of the same reporter (一人多诉). The value is
 * normalised (phone numbers without +86 and separators) and scoped by kind, so a phone number and
 * an app openid never collide.
 */
export function contactToken(secret: string, kind: 'phone' | 'user', value: string | null | undefined): string | null {
  if (value == null) return null;
  const v = kind === 'phone' ? normalizePhone(value) : value.trim();
  if (v.length === 0) return null;
  const h = createHmac('sha256', secret).update(`${kind}:${v}`).digest('hex');
  return `ct1_${h.slice(0, 32)}`;
}
