import { readFileSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { writeDefaultCatalog } from '../../catalog/build';
import { defaultCatalogPath, loadCatalog } from '../../catalog/catalog';
import { formatLintReport, lintCatalog } from '../../catalog/lint';
import { DEFAULT_TRAIN_OPTIONS, defaultModelPath, readLabelled, saveModel, toModelFile, train, type TrainOptions } from '../../catalog/model';

const USAGE = `usage: intake-hub catalog <command>
  build [--out FILE]                 build the default catalog from ../shared/data (default: schemas/catalog/default.catalog.json)
  lint [FILE] [--json]               check a catalog (default: the default catalog); exit 1 on errors
  stats [--json] [FILE]              counts: categories, subcategories, channel codes
  train --data FILE... [--out FILE] [--version V] [--bits N] [--epochs N] [--lambda X] [--lr X]
                                     train the text model on labelled JSONL (label_l1 + text)`;

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
}

/** Minimal flag parser: `--flag value...` collects values until the next flag; `--json` alone is boolean. */
function parse(argv: string[], booleans: string[] = []): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  let current: string | null = null;
  for (const a of argv) {
    if (a.startsWith('--')) {
      const [k = '', v] = a.slice(2).split('=', 2);
      current = booleans.includes(k) ? null : k;
      flags.set(k, v !== undefined ? [v] : []);
      if (v !== undefined) current = null;
      continue;
    }
    if (current) (flags.get(current) as string[]).push(a);
    else positional.push(a);
  }
  return { positional, flags };
}

function one(p: Parsed, k: string): string | undefined {
  return p.flags.get(k)?.[0];
}

function abs(file: string): string {
  return isAbsolute(file) ? file : resolve(process.cwd(), file);
}

function catalogFile(p: Parsed): string {
  return p.positional[0] ? abs(p.positional[0]) : defaultCatalogPath();
}

/** `intake-hub catalog …`. Returns the process exit code. */
export async function catalogCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'build': {
      const p = parse(rest);
      const out = abs(one(p, 'out') ?? defaultCatalogPath());
      const counts = writeDefaultCatalog(out);
      console.log(`wrote ${out}: ${counts.categories} categories, ${counts.subcategories} subcategories`);
      return 0;
    }
    case 'lint': {
      const p = parse(rest, ['json']);
      const file = catalogFile(p);
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        console.error(`error: cannot read ${file}: ${(e as Error).message}`);
        return 1;
      }
      const r = lintCatalog(doc);
      console.log(p.flags.has('json') ? JSON.stringify(r, null, 2) : formatLintReport(r, file));
      return r.ok ? 0 : 1;
    }
    case 'stats': {
      const p = parse(rest, ['json']);
      const file = catalogFile(p);
      const cat = loadCatalog(file);
      const schemes = Object.fromEntries(
        Object.entries(cat.doc.channelSchemes).map(([name, s]) => [name, { codes: s.codes.length, mapped: s.codes.filter((c) => cat.byChannelCode(name, c.code)).length }]),
      );
      const stats = {
        catalogVersion: cat.version,
        categories: cat.counts.categories,
        subcategories: cat.counts.subcategories,
        territorial: cat.subcategories.filter((s) => s.territorial).length,
        departments: new Set(cat.subcategories.map((s) => s.department)).size,
        keywords: cat.subcategories.reduce((a, s) => a + s.keywords.length, 0),
        byCategory: cat.categories.map((c) => ({ code: c.code, name: c.name, l1: c.l1, subcategories: c.subcategories.length })),
        channelSchemes: schemes,
      };
      if (p.flags.has('json')) console.log(JSON.stringify(stats));
      else {
        console.log(`${file}\ncatalog ${stats.catalogVersion}: ${stats.categories} categories, ${stats.subcategories} subcategories (${stats.territorial} territorial), ${stats.departments} departments, ${stats.keywords} keywords`);
        for (const c of stats.byCategory) console.log(`  ${c.code} ${c.name} (${c.l1}): ${c.subcategories}`);
        for (const [n, s] of Object.entries(schemes)) console.log(`  scheme ${n}: ${s.mapped}/${s.codes} codes mapped`);
      }
      return 0;
    }
    case 'train': {
      const p = parse(rest);
      const data = (p.flags.get('data') ?? []).map(abs);
      if (!data.length) {
        console.error('error: catalog train needs --data FILE...\n' + USAGE);
        return 2;
      }
      const bad = data.find((f) => /holdout/i.test(basename(f)));
      if (bad) {
        console.error(`error: refusing to train on ${bad}: the holdout set is for acceptance evaluation only`);
        return 2;
      }
      const num = (k: string, d: number): number => {
        const v = one(p, k);
        return v === undefined ? d : Number(v);
      };
      const o: TrainOptions = {
        ...DEFAULT_TRAIN_OPTIONS,
        bits: num('bits', DEFAULT_TRAIN_OPTIONS.bits),
        epochs: num('epochs', DEFAULT_TRAIN_OPTIONS.epochs),
        lambda: num('lambda', DEFAULT_TRAIN_OPTIONS.lambda),
        lr: num('lr', DEFAULT_TRAIN_OPTIONS.lr),
        ngramMax: num('ngram-max', DEFAULT_TRAIN_OPTIONS.ngramMax),
        loss: one(p, 'loss') === 'softmax' ? 'softmax' : DEFAULT_TRAIN_OPTIONS.loss,
      };
      const perFileRows = data.map((f) => readLabelled(f));
      const rows = perFileRows.flat();
      const perFile = data.map((f, i) => ({ file: basename(f), rows: perFileRows[i]?.length ?? 0 }));
      const t0 = Date.now();
      const m = train(rows, o);
      const createdAt = new Date().toISOString();
      const version = one(p, 'version') ?? `l1-${createdAt.slice(0, 10)}`;
      const file = toModelFile(m.labels, version, o, m.w, m.idf, m.bias, perFile, createdAt, `${o.loss === 'softmax' ? 'multinomial logistic regression' : `one-vs-rest squared-hinge linear SVM (${o.solver === 'cd' ? `dual coordinate descent, C ${o.C}` : 'SGD'}${o.nb ? ', naive-Bayes feature scaling (NB-SVM)' : ''}${o.classWeight === 'balanced' ? ', balanced class weights' : ''})`} on hashed char ${o.ngramMin}-${o.ngramMax}-grams; hyper-parameters chosen by 5-fold CV on the training files (bench/classify/cv.ts)`);
      const out = abs(one(p, 'out') ?? defaultModelPath());
      saveModel(out, file);
      console.log(`trained ${version} on ${rows.length} rows (${m.labels.length} labels) in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${out}`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return sub === undefined ? 2 : 0;
    default:
      console.error(`error: unknown catalog command "${sub}"\n${USAGE}`);
      return 2;
  }
}

