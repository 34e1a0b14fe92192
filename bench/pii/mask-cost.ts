/**
 * Masking cost and over-masking on real messages (TipDM 2020 C: train, unlabeled and the two
 * message sheets, title + detail; never the holdout). Prints, per message:
 * - µs median / p90 / p99 of the masking engine on every text field of a ticket (title, text), and
 *   of the whole enrich stage (assembleTicket, masking the reporter's own name and phone too),
 *   against the peer measured in the same run: the pre-issue-11 regex masker (legacy-mask.ts);
 * - what the engine masks on these already-anonymised messages, by kind (over-masking: every
 *   finding here is either a leftover identifier or a false positive; `--examples` prints them).
 *   npm run build && node dist/bench/pii/mask-cost.js [--rounds 5] [--examples]
 */
import { readFileSync } from 'node:fs';
import { assembleTicket } from '../../core/pipeline/enrich';
import { findIdentifiers, maskText } from '../../core/pii/mask';
import type { TicketDraft } from '../../core/sdk/draft';
import { sharedDataFile } from '../../core/util/shared-data';
import { legacyMaskText } from './legacy-mask';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = arg('--rounds', 5);

const msgs: { title: string; text: string }[] = [];
for (const f of ['train.jsonl', 'unlabeled.jsonl', 'messages_with_votes.jsonl', 'messages_with_replies.jsonl']) {
  for (const line of readFileSync(sharedDataFile('tipdm2020c', f), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const m = JSON.parse(line) as { title?: string; detail?: string; text?: string };
    const text = (m.detail ?? m.text ?? '').trim();
    if (text) msgs.push({ title: (m.title ?? '').trim(), text });
  }
}

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
};
function time(f: (m: { title: string; text: string }) => unknown): number[] {
  const per = new Array<number>(msgs.length).fill(Infinity);
  for (let r = 0; r < ROUNDS; r++) {
    msgs.forEach((m, i) => {
      const t0 = process.hrtime.bigint();
      f(m);
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      if (us < (per[i] as number)) per[i] = us;
    });
  }
  return per;
}

const draft = (m: { title: string; text: string }): TicketDraft => ({
  sourceId: 'R-1',
  occurredAt: null,
  reporter: { name: '张某某', phone: '13800000001', userId: 'oUser0001', anonymous: false, role: 'resident' },
  title: m.title || null,
  text: m.text,
  appealType: 'complaint',
  location: { address: 'A市A3区联丰路', point: null, district: 'A3区', street: null, community: null, grid: null },
  channelCategory: { scheme: 's', code: '045', name: '噪音扰民' },
  urgency: 'normal',
  attachments: [{ kind: 'photo', url: 'https://img.example.cn/a/1.jpg?size=2', mediaType: null }],
  channelFields: { status: '已受理' },
  mappingVersion: null,
});
const a = { channel: 'hotline-12345' as const, connectorId: 'h', dedupScope: 'h', receivedAt: 0, rawTopic: 't', envelopeId: '01JC0000000000000000000002', sha256: '0'.repeat(64), tokenSecret: 'bench-secret-0123456789' };

// warm up both
time((m) => legacyMaskText(m.title) + legacyMaskText(m.text));
time((m) => maskText(m.title) + maskText(m.text));
const legacy = time((m) => legacyMaskText(m.title) + legacyMaskText(m.text));
const engine = time((m) => maskText(m.title) + maskText(m.text));
const enrich = time((m) => assembleTicket(draft(m), a));
const chars = msgs.reduce((s, m) => s + m.title.length + m.text.length, 0);
const row = (name: string, xs: number[]): string => `  ${name.padEnd(34)} median ${q(xs, 0.5).toFixed(1).padStart(6)} µs   p90 ${q(xs, 0.9).toFixed(1).padStart(6)}   p99 ${q(xs, 0.99).toFixed(1).padStart(7)}`;
process.stdout.write(`${msgs.length} TipDM messages, ${(chars / msgs.length).toFixed(0)} characters each on average; best of ${ROUNDS} rounds per message\n`);
process.stdout.write(`${row('legacy regex masker (title+text)', legacy)}\n${row('masking engine (title+text)', engine)}\n${row('assembleTicket (whole enrich)', enrich)}\n`);
process.stdout.write(`  engine / legacy (median ratio)    ${(q(engine, 0.5) / q(legacy, 0.5)).toFixed(2)}x\n`);

// over-masking
const kinds = new Map<string, { n: number; examples: string[] }>();
let touched = 0;
let maskedChars = 0;
let legacyTouched = 0;
for (const m of msgs) {
  const t = `${m.title}\n${m.text}`;
  const f = findIdentifiers(t);
  if (f.length) touched++;
  if (legacyMaskText(t) !== t) legacyTouched++;
  for (const x of f) {
    maskedChars += x.end - x.start;
    const e = kinds.get(x.kind) ?? { n: 0, examples: [] };
    e.n++;
    if (e.examples.length < 40) e.examples.push(`${t.slice(Math.max(0, x.start - 8), x.start)}[${t.slice(x.start, x.end)}]${t.slice(x.end, x.end + 4)}`.replace(/\s+/g, ' '));
    kinds.set(x.kind, e);
  }
}
process.stdout.write(`\nover-masking: ${touched} of ${msgs.length} messages (${((100 * touched) / msgs.length).toFixed(1)}%) have something masked (legacy: ${legacyTouched}); ${maskedChars} of ${chars} characters (${((100 * maskedChars) / chars).toFixed(3)}%)\n`);
for (const [k, v] of [...kinds].sort((x, y) => y[1].n - x[1].n)) {
  process.stdout.write(`  ${k.padEnd(10)} ${String(v.n).padStart(5)}\n`);
  if (process.argv.includes('--examples')) for (const e of v.examples) process.stdout.write(`      ${e}\n`);
}
