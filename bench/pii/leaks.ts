/**
 * The personal-data leak table of docs/SECURITY.md: every identifier shape (core/testing/pii-leaks.ts)
 * in every field of every channel's native format, through normalize and the enrich stage.
 * Prints per shape and per channel: samples, leaked (full identifier readable in a published
 * string), rejected (the report was refused; its error text is checked too).
 *   npm run build && node dist/bench/pii/leaks.js [--per 2] [--seed 11] [--markdown] [--leaks]
 */
import { runAll } from '../../core/testing/pii-leaks';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};

const r = runAll(arg('--per', 2), arg('--seed', 11));
const md = process.argv.includes('--markdown');
const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
const table = (title: string, m: Map<string, { samples: number; leaked: number; rejected: number }>): void => {
  if (md) {
    process.stdout.write(`\n| ${title} | samples | leaked | leak rate | rejected |\n|---|---:|---:|---:|---:|\n`);
    for (const [k, v] of m) process.stdout.write(`| ${k} | ${v.samples} | ${v.leaked} | ${pct(v.leaked, v.samples)} | ${v.rejected} |\n`);
  } else {
    process.stdout.write(`\n${title}\n`);
    for (const [k, v] of m) process.stdout.write(`  ${k.padEnd(44)} ${String(v.samples).padStart(5)} samples ${String(v.leaked).padStart(5)} leaked ${pct(v.leaked, v.samples).padStart(7)} ${String(v.rejected).padStart(4)} rejected\n`);
  }
};
const leakingShapes = [...r.byShape.values()].filter((v) => v.leaked > 0).length;
process.stdout.write(`${r.samples} samples (${r.published} published, ${r.rejected} rejected), ${r.byShape.size} shapes, ${r.byChannel.size} channel formats: ${r.leaked.length} leaked (${pct(r.leaked.length, r.samples)}), ${leakingShapes} of ${r.byShape.size} shapes leaked\n`);
table('shape', r.byShape);
table('channel', r.byChannel);
if (process.argv.includes('--leaks')) for (const l of r.leaked) process.stdout.write(`LEAK ${l.shape} | ${l.channel} | ${l.field} | ${l.outcome} | ${JSON.stringify(l.rendered)} → ${l.leaks.join(', ')}\n`);
