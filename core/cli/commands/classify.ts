import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { defaultCatalogPath, loadCatalog } from '../../catalog/catalog';
import { Classifier, DEFAULT_CLASSIFICATION_CONFIG } from '../../catalog/classify';
import { defaultModelPath, loadModel } from '../../catalog/model';

const USAGE = `usage: intake-hub classify --input FILE.jsonl --output FILE.jsonl [--catalog FILE] [--model FILE] [--min-confidence X]
  Reads one JSON object per line with "text" (or "title" + "detail"), optional "channelCategory"
  {scheme, code}, and any id fields (id, row, msg_id, *_id, *Id, gdbh); writes one line per input:
  the id fields, category, category_name, subcategory, subcategory_name, confidence, method,
  label_l1 (the category's projection onto the 7 message-board labels; for method "manual" the
  model's suggestion). A bad line yields {"line": N, "error": "..."} and exit code 1 at the end.`;

const ID_FIELD = /^(id|row|msg_id|gdbh|sourceId|source_id)$|_id$|Id$/;

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

/** `intake-hub classify`. Returns the process exit code. */
export async function classifyCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  const input = flag(argv, 'input');
  const output = flag(argv, 'output');
  if (!input || !output) {
    console.error(`error: --input and --output are required\n${USAGE}`);
    return 2;
  }
  const minConf = flag(argv, 'min-confidence');
  const t0 = Date.now();
  const catalog = loadCatalog(flag(argv, 'catalog') ?? defaultCatalogPath());
  const model = loadModel(flag(argv, 'model') ?? defaultModelPath());
  const classifier = new Classifier(catalog, model, minConf !== undefined ? { minConfidence: Number(minConf) } : {});
  const loadMs = Date.now() - t0;

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
    const channelCategory = ccRaw && typeof ccRaw.scheme === 'string' && typeof ccRaw.code === 'string' ? { scheme: ccRaw.scheme, code: ccRaw.code } : null;
    // `text` of the message-board data already starts with the title: do not repeat it
    const useTitle = title && typeof r.text === 'string' && r.text.startsWith(title) ? null : title;
    const c = classifier.classify({ text: text || (title ?? ''), title: text ? useTitle : null, channelCategory });
    methods[c.method] = (methods[c.method] ?? 0) + 1;
    await write(
      JSON.stringify({
        ...ids,
        category: c.category?.code ?? null,
        category_name: c.category?.name ?? null,
        subcategory: c.subcategory?.code ?? null,
        subcategory_name: c.subcategory?.name ?? null,
        confidence: c.confidence,
        method: c.method,
        label_l1: c.labelL1,
      }),
    );
    if (n % progress === 0) console.error(`classify: ${n} lines (${Math.round(n / ((Date.now() - t0) / 1000))}/s)`);
  }
  out.end();
  await once(out, 'finish');
  const secs = (Date.now() - t0) / 1000;
  console.error(
    `classify: ${n} lines → ${output} in ${secs.toFixed(2)} s (catalog ${catalog.version}, model ${model.version}, loaded in ${loadMs} ms; methods ${JSON.stringify(methods)}; ${bad} bad line(s); min confidence ${classifier.config.minConfidence ?? DEFAULT_CLASSIFICATION_CONFIG.minConfidence})`,
  );
  return bad ? 1 : 0;
}
