import { readJsonl } from '../cluster/tipdm';
import { ConfigError } from '../errors';
import type { Catalog } from './catalog';
import type { TeacherDocument } from './category-model';
import { pushAnnotated } from './category-train';
import { overlapCheck, overlaps } from './weak-labels';

/**
 * Extra category annotations (`core/catalog/labels/*.jsonl`): messages of the shared data that are
 * not in `catalog-labels/train_categories.jsonl`, labelled with the default catalog's categories
 * under the same guidelines (`catalog-labels/GUIDELINES.md`), by this project. They name their
 * message, never copy it: `{"source": "train", "row": 766, …}` is row 766 of
 * `tipdm2020c/train.jsonl`, `{"source": "unlabeled", "msg_id": "12", …}` message 12 of
 * `tipdm2020c/unlabeled.jsonl`, `{"source": "votes", "msg_id": …}` one of
 * `tipdm2020c/messages_with_votes.jsonl`. Fields as the annotators': `primary`, `acceptable`, `triage_ok`,
 * `note`, `sample`.
 *
 * They only train the category teacher (as documents at a weight, like the annotated rows:
 * `pushAnnotated`); they are never evaluated, so cross-validation figures stay those of the
 * annotators' random sample.
 */
export interface ExtraAnnotation {
  source: ExtraSource;
  id: string;
  primary: string;
  acceptable: string[];
  triageOk: boolean;
  note: string;
  sample: string;
}

export type ExtraSource = 'train' | 'unlabeled' | 'votes';
const SOURCES: readonly string[] = ['train', 'unlabeled', 'votes'];
const CODE = /^C\d\d$/;

/** Reads and checks annotation files; a message annotated twice keeps its first line. */
export function readExtraAnnotations(files: readonly string[]): ExtraAnnotation[] {
  const out: ExtraAnnotation[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    readJsonl<Record<string, unknown>>(file).forEach((r, i) => {
      const where = `${file}:${i + 1}`;
      const source = r.source;
      if (typeof source !== 'string' || !SOURCES.includes(source)) throw new ConfigError(`${where}: source must be one of ${SOURCES.join(', ')}`);
      const id = source === 'train' ? r.row : r.msg_id;
      if (source === 'train' ? !Number.isInteger(id) : typeof id !== 'string' || id === '') throw new ConfigError(`${where}: needs ${source === 'train' ? 'an integer row' : 'a msg_id string'}`);
      if (typeof r.primary !== 'string' || !CODE.test(r.primary)) throw new ConfigError(`${where}: primary must be a category code (C01…)`);
      if (!Array.isArray(r.acceptable) || r.acceptable.some((a) => typeof a !== 'string' || !CODE.test(a)) || r.acceptable.length > 3) throw new ConfigError(`${where}: acceptable must be 1–3 category codes`);
      const acceptable = [r.primary, ...(r.acceptable as string[]).filter((a) => a !== r.primary)];
      const k = `${source}:${String(id)}`;
      if (seen.has(k)) return;
      seen.add(k);
      out.push({ source: source as ExtraSource, id: String(id), primary: r.primary, acceptable, triageOk: r.triage_ok === true, note: typeof r.note === 'string' ? r.note.slice(0, 64) : '', sample: typeof r.sample === 'string' ? r.sample : '' });
    });
  }
  return out;
}

export interface ExtraDocuments {
  docs: TeacherDocument[];
  /** annotations turned into documents */
  used: number;
  /** left out: their text overlaps an annotated (evaluated) message */
  excluded: number;
  byCategory: Record<string, number>;
}

/**
 * Teacher documents of the annotations at `weight`. `texts` resolves a message: train rows by row
 * number, unlabeled messages by msg_id (title + detail, as the board texts are laid out); a missing
 * message is an error (the annotation names data that is not there). Messages whose text overlaps one
 * of `exclude` (the annotators' texts: CV would otherwise see an evaluated message with a label) are
 * left out.
 */
export function extraAnnotatedDocuments(annotations: readonly ExtraAnnotation[], texts: Readonly<Record<ExtraSource, ReadonlyMap<string, string>>>, catalog: Catalog, weight: number, exclude: readonly string[]): ExtraDocuments {
  if (!(weight > 0 && weight <= 1)) throw new ConfigError('extra-annotation weight must be in (0, 1]');
  const inExcluded = overlapCheck(exclude);
  const docs: TeacherDocument[] = [];
  const byCategory: Record<string, number> = {};
  let used = 0;
  let excluded = 0;
  for (const a of annotations) {
    for (const c of a.acceptable) if (!catalog.category(c)) throw new ConfigError(`extra annotation ${a.source}:${a.id}: category ${c} is not in this catalog`);
    const text = texts[a.source].get(a.id);
    if (text === undefined) throw new ConfigError(`extra annotation ${a.source}:${a.id}: no such message in the ${a.source} file`);
    if (overlaps(inExcluded, text)) {
      excluded++;
      continue;
    }
    used++;
    byCategory[a.primary] = (byCategory[a.primary] ?? 0) + 1;
    pushAnnotated(docs, text, a, weight);
  }
  return { docs, used, excluded, byCategory };
}

/**
 * Message texts for `extraAnnotatedDocuments`: train.jsonl rows by row, unlabeled.jsonl and
 * messages_with_votes.jsonl messages by msg_id (title + detail). A file not given (null) leaves its
 * source empty: an annotation naming it is then refused.
 */
export function messageTexts(trainFile: string, unlabeledFile: string | null, votesFile: string | null = null): Record<ExtraSource, Map<string, string>> {
  const train = new Map<string, string>();
  for (const r of readJsonl<Record<string, unknown>>(trainFile)) if (Number.isInteger(r.row) && typeof r.text === 'string') train.set(String(r.row), r.text);
  const board = (file: string | null): Map<string, string> => {
    const m = new Map<string, string>();
    if (file) for (const r of readJsonl<Record<string, unknown>>(file)) if (typeof r.msg_id === 'string') m.set(r.msg_id, `${typeof r.title === 'string' ? r.title.trim() : ''}${typeof r.detail === 'string' ? r.detail.trim() : ''}`);
    return m;
  };
  return { train, unlabeled: board(unlabeledFile), votes: board(votesFile) };
}
