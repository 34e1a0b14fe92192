import type { CatalogDoc } from './types';

/**
 * Writes a catalog as compact, diff-friendly JSON: one subcategory or channel code per line, so the
 * committed 828-entry file stays small and a change shows as one changed line.
 */
export function serializeCatalog(doc: CatalogDoc): string {
  const j = (v: unknown): string => JSON.stringify(v);
  const lines: string[] = ['{'];
  const { categories, channelSchemes, ...head } = doc;
  for (const [k, v] of Object.entries(head)) lines.push(`  ${j(k)}: ${j(v)},`);
  lines.push('  "channelSchemes": {');
  const schemes = Object.entries(channelSchemes);
  schemes.forEach(([name, s], i) => {
    const { codes, ...meta } = s;
    const metaJson = j(meta);
    lines.push(`    ${j(name)}: ${metaJson.slice(0, -1)}${metaJson.length > 2 ? ',' : ''} "codes": [`);
    codes.forEach((c, k) => lines.push(`      ${j(c)}${k < codes.length - 1 ? ',' : ''}`));
    lines.push(`    ]}${i < schemes.length - 1 ? ',' : ''}`);
  });
  lines.push('  },');
  lines.push('  "categories": [');
  categories.forEach((c, i) => {
    const { subcategories, ...meta } = c;
    const metaJson = j(meta);
    lines.push(`    ${metaJson.slice(0, -1)}, "subcategories": [`);
    subcategories.forEach((s, k) => lines.push(`      ${j(s)}${k < subcategories.length - 1 ? ',' : ''}`));
    lines.push(`    ]}${i < categories.length - 1 ? ',' : ''}`);
  });
  lines.push('  ]');
  lines.push('}');
  return lines.join('\n') + '\n';
}
