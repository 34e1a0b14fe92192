/**
 * Code-table lookups for values that come from a source. A table is a plain object (from YAML or
 * code); `table[key]` with a key such as `constructor`, `__proto__` or `toString` would find
 * Object.prototype's members, so every lookup of an untrusted key goes through `lookup`, which
 * reads own properties only.
 */
export function lookup<T>(table: Readonly<Record<string, T>> | null | undefined, key: string | null | undefined): T | undefined {
  if (table == null || key == null || !Object.prototype.hasOwnProperty.call(table, key)) return undefined;
  return table[key];
}
