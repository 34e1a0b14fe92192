/**
 * The masker before issue 11 (five regular expressions over the text), kept verbatim as the peer
 * that bench/pii/mask-cost.ts measures the engine against. Not used by the hub.
 */
const ID18 = /(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])/g;
const ID15 = /(?<!\d)([1-9]\d{5})(\d{9})(?!\d)/g;
const MOBILE = /(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)/g;
const LANDLINE = /(?<!\d)(0\d{2,3})[- ]?(\d{7,8})(?!\d)/g;
const EMAIL = /([A-Za-z0-9._%+-]{1,64})@([A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24})/g;

/** Masks phone numbers, ID numbers and e-mail addresses inside free text. */
export function legacyMaskText(text: string): string {
  return text
    .replace(ID18, (_m, region: string) => `${region}${'*'.repeat(12)}`)
    .replace(MOBILE, (_m, a: string, _b: string, c: string) => `${a}****${c}`)
    .replace(ID15, (_m, region: string) => `${region}${'*'.repeat(9)}`)
    .replace(LANDLINE, (_m, area: string, num: string) => `${area}-${'*'.repeat(num.length - 2)}${num.slice(-2)}`)
    .replace(EMAIL, (_m, _local: string, domain: string) => `***@${domain}`);
}
