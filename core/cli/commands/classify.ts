import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { defaultCatalogPath, loadCatalog } from '../../catalog/catalog';
import { defaultCategoryModelPath, loadCategoryModel } from '../../catalog/category-model';
import { Classifier, DEFAULT_CLASSIFICATION_CONFIG, type ClassifyResult } from '../../catalog/classify';
import { defaultModelPath, loadModel } from '../../catalog/model';
import { bool, num, runCommand, str, UsageError, type CommandSpec, type Parsed } from '../args';

const SPEC: CommandSpec = {
  name: 'classify',
  summary: 'classify messages with the catalog cascade (channel code → rules → category model → manual triage)',
  options: {
    input: { type: 'string', value: 'FILE.jsonl', help: 'messages, one JSON object per line (required unless --text)' },
    output: { type: 'string', value: 'FILE.jsonl', help: 'where to write one result line per input (required unless --text)' },
    explain: { type: 'boolean', help: 'add "evidence" and "steps" (what each cascade step saw and decided)' },
    text: { type: 'string', value: 'TEXT', help: 'classify this one report and explain it on stdout' },
    title: { type: 'string', value: 'T', help: 'with --text: its title' },
    scheme: { type: 'string', value: 'S', help: "with --text: the channel code's scheme" },
    code: { type: 'string', value: 'C', help: "with --text: the channel's code" },
    name: { type: 'string', value: 'N', help: "with --text: the channel's name for the code" },
    catalog: { type: 'string', value: 'FILE', help: 'catalog (default: the default catalog)' },
    model: { type: 'string', value: 'FILE', help: '7-label text model (default: the shipped model)' },
    'category-model': { type: 'string', value: 'FILE', help: 'category model (default: the shipped model)' },
    'min-confidence': { type: 'string', value: 'X', help: 'category confidence below which the method is "manual"' },
  },
  details: `Reads one JSON object per line with "text" (or "title" + "detail"), optional "channelCategory"
{scheme, code, name}, and any id fields (id, row, msg_id, *_id, *Id, gdbh); writes one line per input:
the id fields, category, category_name, subcategory, subcategory_name, confidence (the category's),
subcategory_confidence, method, suggestion (the best guess of a "manual" row), label_l1 (the 7-label
model's label). A bad line yields {"line": N, "error": "..."} and exit code 1 at the end.`,
};

/** A readable explanation of one classification. */
export function formatExplanation(r: ClassifyResult): string {
  const lines = [`${r.method}: ${r.category ? `${r.category.code} ${r.category.name}` : 'no category (manual triage)'}${r.subcategory ? ` / ${r.subcategory.code} ${r.subcategory.name}` : ''}`];
  lines.push(`  confidence: category ${r.confidence}, subcategory ${r.subcategoryConfidence}${r.suggestion ? `; suggestion ${r.suggestion}` : ''}; label_l1 ${r.labelL1 ?? '-'}`);
  for (const s of r.steps ?? []) lines.push(`  [${s.step}] ${s.outcome}${s.detail ? ` ${JSON.stringify(s.detail)}` : ''}`);
  lines.push(`  evidence: ${r.evidence}`);
  return lines.join('\n');
}

const ID_FIELD = /^(id|row|msg_id|gdbh|sourceId|source_id)$|_id$|Id$/;

/** `intake-hub classify`. Returns the process exit code. */
export function classifyCommand(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, classify);
}

async function classify(p: Parsed): Promise<number> {
  const explain = bool(p, 'explain');
  const oneText = str(p, 'text');
  const input = str(p, 'input');
  const output = str(p, 'output');
  if (oneText === undefined && (!input || !output)) throw new UsageError('--input and --output are required (or --text)');
  const minConf = str(p, 'min-confidence') === undefined ? undefined : num(p, 'min-confidence', 0, 0, 1);
  const t0 = Date.now();
  const catalog = loadCatalog(str(p, 'catalog') ?? defaultCatalogPath());
  const model = loadModel(str(p, 'model') ?? defaultModelPath());
  const categoryModel = loadCategoryModel(str(p, 'category-model') ?? defaultCategoryModelPath());
  const classifier = new Classifier(catalog, model, minConf !== undefined ? { minConfidence: minConf } : {}, categoryModel.fits(catalog) && categoryModel.mixesWith(model) ? categoryModel : null);
  const loadMs = Date.now() - t0;
  if (oneText !== undefined) {
    const scheme = str(p, 'scheme');
    const code = str(p, 'code');
    const r = classifier.classify({ text: oneText, title: str(p, 'title') ?? null, channelCategory: scheme && code ? { scheme, code, name: str(p, 'name') ?? null } : null }, { explain: true });
    console.log(formatExplanation(r));
    return 0;
  }
  if (!input || !output) return 2;

  const out = createWriteStream(output);
  const rl = createInterface({ input: createReadStream(input), crlfDelay: Infinity });
  let n = 0;
  let bad = 0;
  const methods: Record<string, number> = {};
  const progress = process.stderr.isTTY ? 10_000 : 100_000;
  const write = async (s: string): Promise<void> => {
    if (!out.write(s + '\n')) await once(out, 'drain');
  };
  for await (const line of rl) {
    n++;
    if (!line.trim()) {
      bad++;
      console.error(`${input}:${n}: empty line`);
      await write(JSON.stringify({ line: n, error: 'empty line' }));
      continue;
    }
    let r: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
      r = v as Record<string, unknown>;
    } catch (e) {
      bad++;
      console.error(`${input}:${n}: ${(e as Error).message}`);
      await write(JSON.stringify({ line: n, error: `not a JSON object: ${(e as Error).message}` }));
      continue;
    }
    const ids: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (ID_FIELD.test(k)) ids[k] = v;
    const title = typeof r.title === 'string' ? r.title : null;
    const text = typeof r.text === 'string' && r.text ? r.text : typeof r.detail === 'string' ? r.detail : '';
    if (!text && !title) {
      bad++;
      console.error(`${input}:${n}: no "text", "title" or "detail"`);
      await write(JSON.stringify({ ...ids, line: n, error: 'no "text", "title" or "detail"' }));
      continue;
    }
    const ccRaw = r.channelCategory as { scheme?: unknown; code?: unknown } | null | undefined;
    const ccName = (ccRaw as { name?: unknown } | null | undefined)?.name;
    const channelCategory = ccRaw && typeof ccRaw.scheme === 'string' && typeof ccRaw.code === 'string' ? { scheme: ccRaw.scheme, code: ccRaw.code, name: typeof ccName === 'string' ? ccName : null } : null;
    // `text` of the message-board data already starts with the title: do not repeat it
    const useTitle = title && typeof r.text === 'string' && r.text.startsWith(title) ? null : title;
    const c = classifier.classify({ text: text || (title ?? ''), title: text ? useTitle : null, channelCategory }, { explain });
    methods[c.method] = (methods[c.method] ?? 0) + 1;
    await write(
      JSON.stringify({
        ...ids,
        category: c.category?.code ?? null,
        category_name: c.category?.name ?? null,
        subcategory: c.subcategory?.code ?? null,
        subcategory_name: c.subcategory?.name ?? null,
        confidence: c.confidence,
        subcategory_confidence: c.subcategoryConfidence,
        method: c.method,
        suggestion: c.suggestion,
        label_l1: c.labelL1,
        ...(explain ? { evidence: c.evidence, steps: c.steps } : {}),
      }),
    );
    if (n % progress === 0) console.error(`classify: ${n} lines (${Math.round(n / ((Date.now() - t0) / 1000))}/s)`);
  }
  out.end();
  await once(out, 'finish');
  const secs = (Date.now() - t0) / 1000;
  console.error(
    `classify: ${n} lines → ${output} in ${secs.toFixed(2)} s (catalog ${catalog.version}, model ${model.version}, category model ${classifier.usesCategoryModel ? categoryModel.version : 'not used (other categories or labels)'}, loaded in ${loadMs} ms; methods ${JSON.stringify(methods)}; ${bad} bad line(s); min confidence ${classifier.config.minConfidence ?? DEFAULT_CLASSIFICATION_CONFIG.minConfidence})`,
  );
  return bad ? 1 : 0;
}
