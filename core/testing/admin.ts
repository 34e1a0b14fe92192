import { hashToken, type AdminRole, type TokenEntry } from '../admin/auth';

/** Test tokens, one per role (never configured outside tests). */
export const TEST_TOKENS: Record<AdminRole, string> = {
  viewer: 'ihk_test-viewer-token-0123456789abcdef',
  operator: 'ihk_test-operator-token-0123456789abcdef',
  admin: 'ihk_test-admin-token-0123456789abcdef',
};

/** `admin.tokens` entries of the test tokens. */
export const TEST_TOKEN_ENTRIES: TokenEntry[] = (Object.keys(TEST_TOKENS) as AdminRole[]).map((role) => ({ id: `test-${role}`, role, sha256: hashToken(TEST_TOKENS[role]) }));

/** The Authorization header of a test token. */
export function bearer(role: AdminRole): { authorization: string } {
  return { authorization: `Bearer ${TEST_TOKENS[role]}` };
}
