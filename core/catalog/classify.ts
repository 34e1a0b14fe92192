import type { CanonicalTicket } from '../schema/types.generated';
import type { Stage, StageOutput } from '../pipeline/stage';
import type { Catalog, CatalogStore, ChannelResolution } from './catalog';
import type { CategoryModel } from './category-model';
import type { TextModel } from './model';
import { rulesFor, type RuleHit } from './rules';

/**
 * The classification cascade. Each ticket goes down the steps until one decides, and the step is
 * recorded in `classification.method`:
 *
 * 1. `channel-code` — the channel's own code (ticket.channelCategory) resolved through the catalog
 *    (`Catalog.resolveChannel`: by code, by the channel's name for it, by a family prefix; an Open311
 *    service code is a subcategory code). A code naming a subcategory decides it (confidence 1). A
 *    code naming one category fixes the category (confidence 1) and keywords pick the subcategory
 *    within it. A code naming several categories restricts the rules to them and weighs the model
 *    towards them (`channelOutsideWeight`); a code that names none (咨询求助) or contradicts the
 *    channel's name for it is set aside.
 * 2. `rules` — keyword rules, only when decisive: the best subcategory scores at least
 *    `ruleMinScore`, its category leads every other category by `ruleMinMargin`, and (with a
 *    category model) the model does not rule that category out (probability ≥ `ruleMinModelProb`).
 * 3. `model` — the category model (`category-model.ts`: a category teacher mixed with the 7-label
 *    model) gives a calibrated probability per category; the best category decides when its
 *    probability reaches `minConfidence`. Keywords pick the subcategory within it, else its general
 *    subcategory `Cnn.000`.
 * 4. `manual` — below `minConfidence`: no category is set; the router sends the ticket to the manual
 *    triage queue. `alternatives` and `suggestion` carry the model's candidates.
 *
 * Without a category model (a city catalog with other category codes) step 3 uses the 7-label
 * model and decides only when keywords name a subcategory whose category projects onto the label;
 * a label alone never decides a category (no default projection at full confidence).
 */

export interface ClassificationConfig {
  /**
   * Below this category probability the ticket goes to manual triage. The default is chosen by
   * cross-validation on the annotated training messages (bench/classify/category-cv.ts,
   * docs/catalog.md): the lowest triage share whose out-of-fold rows reach an acceptable category or
   * triage at least 97% of the time.
   */
  minConfidence: number;
  /**
   * Without a category model: below this 7-label probability the ticket goes to triage (the label
   * model's own calibrated threshold, bench/classify/calibrate.ts).
   */
  minLabelConfidence: number;
  /** With a category model, the rules step decides only if the model gives its category at least this. */
  ruleMinModelProb: number;
  /**
   * A channel code naming several categories weighs the model's probabilities of the other
   * categories by this factor before renormalising (0: only the code's categories can win).
   */
  channelOutsideWeight: number;
  /** Minimum keyword-rule score (Σ keyword lengths, title ×2) for the rules step to decide. */
  ruleMinScore: number;
  /** The rules step decides only if its category's score is ≥ this × the runner-up category's. */
  ruleMinMargin: number;
  /** Use ticket.channelCategory through the catalog mapping. */
  useChannelCodes: boolean;
}

export const DEFAULT_CLASSIFICATION_CONFIG: ClassificationConfig = { minConfidence: 0.27, minLabelConfidence: 0.62, ruleMinModelProb: 0.05, channelOutsideWeight: 0.1, ruleMinScore: 12, ruleMinMargin: 2, useChannelCodes: true };

/** JSON Schema fragment for hub.yaml (`classification:`), with descriptions and defaults. */
export const classificationConfigSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'The classification cascade: channel code → keyword rules → text model → manual triage. See docs/catalog.md.',
  properties: {
    catalogFile: { type: ['string', 'null'], default: null, description: 'A city catalog file replacing the default schemas/catalog/default.catalog.json. Reloadable without restart.' },
    modelFile: { type: ['string', 'null'], default: null, description: 'A trained 7-label text model file (intake-hub catalog train) replacing the shipped core/catalog/models/l1-model.json.gz.' },
    categoryModelFile: { type: ['string', 'null'], default: null, description: 'A trained category model file (intake-hub catalog train --categories) replacing the shipped core/catalog/models/category-model.json.gz. Ignored when its categories are not those of the catalog in use.' },
    minConfidence: { type: 'number', minimum: 0, maximum: 1, default: DEFAULT_CLASSIFICATION_CONFIG.minConfidence, description: 'Category probability below which a ticket goes to the manual triage queue.' },
    minLabelConfidence: { type: 'number', minimum: 0, maximum: 1, default: DEFAULT_CLASSIFICATION_CONFIG.minLabelConfidence, description: 'Without a usable category model: 7-label probability below which a ticket goes to triage.' },
    ruleMinModelProb: { type: 'number', minimum: 0, maximum: 1, default: DEFAULT_CLASSIFICATION_CONFIG.ruleMinModelProb, description: 'The keyword-rules step decides only if the category model gives its category at least this probability.' },
    channelOutsideWeight: { type: 'number', minimum: 0, maximum: 1, default: DEFAULT_CLASSIFICATION_CONFIG.channelOutsideWeight, description: "A channel code naming several categories multiplies the model's probability of every other category by this before renormalising (0: only its categories can win)." },
    ruleMinScore: { type: 'number', minimum: 1, default: DEFAULT_CLASSIFICATION_CONFIG.ruleMinScore, description: 'Minimum keyword-rule score (sum of matched keyword lengths, title matches count twice) for the rules step to decide alone.' },
    ruleMinMargin: { type: 'number', minimum: 1, default: DEFAULT_CLASSIFICATION_CONFIG.ruleMinMargin, description: "The rules step decides only when the best category's score is at least this multiple of the runner-up category's." },
    useChannelCodes: { type: 'boolean', default: true, description: "Classify by the channel's own code (ticket.channelCategory) when the catalog maps it." },
  },
} as const;

export type Method = 'channel-code' | 'rules' | 'model' | 'manual';

export interface ClassifyInput {
  text: string;
  title?: string | null;
  channelCategory?: { scheme: string; code: string; name?: string | null } | null;
}

/** One step of the cascade as `--explain` shows it. */
export interface ExplainStep {
  step: 'channel-code' | 'rules' | 'model' | 'subcategory' | 'decision';
  outcome: string;
  detail?: Record<string, unknown>;
}

export interface ClassifyResult {
  catalogVersion: string;
  method: Method;
  category: { code: string; name: string } | null;
  subcategory: { code: string; name: string } | null;
  /** The category's confidence (what the router checks). */
  confidence: number;
  /** Confidence of the subcategory given the text (≤ confidence); 0 when none is set. */
  subcategoryConfidence: number;
  /** The projection of the (suggested) category onto the 7 message-board labels. */
  labelL1: string | null;
  /** For manual triage: the best guess (category code), else null. */
  suggestion: string | null;
  alternatives: Array<{ subcategory: string; confidence: number }>;
  /** What decided: the channel code, the keywords, or the model. */
  evidence: string;
  /** With `explain`: every step and what it saw. */
  steps?: ExplainStep[];
}

export interface ClassifyOptions {
  /** Record each step's evidence in `steps` (costs a few allocations; off in the pipeline). */
  explain?: boolean;
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

export class Classifier {
  readonly config: ClassificationConfig;
  private readonly scratch: Float64Array;

  /**
   * @param model the 7-label text model (label_l1; the category model mixes its probabilities)
   * @param categoryModel the category model (null: step 3 falls back to the 7-label model)
   */
  constructor(
    private readonly catalogs: CatalogStore | Catalog,
    private readonly model: TextModel | null,
    config: Partial<ClassificationConfig> = {},
    private readonly categoryModel: CategoryModel | null = null,
  ) {
    this.config = { ...DEFAULT_CLASSIFICATION_CONFIG, ...config };
    this.scratch = new Float64Array(categoryModel?.categories.length ?? 0);
    if (categoryModel && model && !categoryModel.mixesWith(model)) {
      // the mixture reads the label model's probabilities by index: the label orders must agree
      throw new Error(`category model ${categoryModel.version} was fitted with labels ${categoryModel.l1Labels.join(',')}, the label model has ${model.labels.join(',')}`);
    }
  }

  private catalog(): Catalog {
    const c = this.catalogs as Partial<CatalogStore>;
    return typeof c.current === 'function' ? (c.current() as Catalog) : (this.catalogs as Catalog);
  }

  /** True when step 3 uses the category model (given, and its categories exist in the catalog in use). */
  get usesCategoryModel(): boolean {
    return !!this.categoryModel && !!this.model && this.categoryModel.fits(this.catalog());
  }

  classify(input: ClassifyInput, opts: ClassifyOptions = {}): ClassifyResult {
    const cat = this.catalog();
    const rules = rulesFor(cat);
    const text = input.text ?? '';
    const title = input.title ?? null;
    const steps: ExplainStep[] | undefined = opts.explain ? [] : undefined;
    const hits = rules.match(text, title);
    const full = title ? `${title}\n${text}` : text;
    const labelPred = this.model ? this.model.predict(full) : null;
    const labelL1 = labelPred?.label ?? null;
    const cm = this.categoryModel && this.model && this.categoryModel.fits(cat) ? this.categoryModel : null;

    /** The best keyword-matched subcategory of category `c`, with its subcategory confidence share. */
    const pickSub = (c: string, catConf: number): { code: string; conf: number; why: string } => {
      let best: RuleHit | undefined;
      let total = 0;
      for (const h of hits) {
        if (!h.subcategory.startsWith(c + '.')) continue;
        total += h.score;
        if (!best) best = h;
      }
      if (!best) {
        steps?.push({ step: 'subcategory', outcome: `${c}.000 (no keyword of ${c} in the text: the category's general subcategory)` });
        return { code: `${c}.000`, conf: catConf * 0.3, why: 'general' };
      }
      const share = best.score / (total + 4);
      steps?.push({ step: 'subcategory', outcome: `${best.subcategory} by keywords ${best.keywords.join('/')}`, detail: { score: best.score, categoryKeywordScore: total } });
      return { code: best.subcategory, conf: catConf * share, why: `keywords ${best.keywords.join('/')}` };
    };

    const result = (method: Method, subCode: string | null, confidence: number, subConf: number, evidence: string, alternatives: ClassifyResult['alternatives'] = [], suggestion: string | null = null): ClassifyResult => {
      const sub = subCode ? cat.subcategory(subCode) : undefined;
      const c = subCode ? cat.categoryOf(subCode) : undefined;
      steps?.push({ step: 'decision', outcome: method === 'manual' ? `manual triage (suggestion ${suggestion ?? 'none'})` : `${method}: ${subCode}`, detail: { confidence: round(confidence), subcategoryConfidence: round(subConf) } });
      return {
        catalogVersion: cat.version,
        method,
        category: c ? { code: c.code, name: c.name } : null,
        subcategory: sub ? { code: sub.code, name: sub.name } : null,
        confidence: round(confidence),
        subcategoryConfidence: round(sub ? subConf : 0),
        labelL1: labelL1 ?? (subCode ? (cat.l1Of(subCode) ?? null) : suggestion ? (cat.category(suggestion)?.l1 ?? null) : null),
        suggestion,
        alternatives: alternatives.filter((a) => a.subcategory !== subCode).slice(0, 5),
        evidence: evidence.slice(0, 500),
        ...(steps ? { steps } : {}),
      };
    };

    // 1. channel code
    let allowed: readonly string[] | null = null;
    let channelNote = '';
    const cc = input.channelCategory;
    if (this.config.useChannelCodes && cc && cc.scheme && cc.code) {
      const r: ChannelResolution | undefined = cat.resolveChannel(cc.scheme, cc.code, cc.name);
      const tag = `${cc.scheme}:${cc.code}${cc.name ? ` ${cc.name}` : ''}`;
      if (!r) steps?.push({ step: 'channel-code', outcome: `${tag}: not in catalog ${cat.version}, classified by text` });
      else {
        steps?.push({ step: 'channel-code', outcome: r.kind === 'subcategory' ? `${tag} → ${r.subcategory.code} ${r.subcategory.name}` : `${tag} → categories [${r.categories.join(', ')}]`, detail: { via: r.via, ...(r.conflict ? { conflict: r.conflict } : {}) } });
        if (r.kind === 'subcategory') return result('channel-code', r.subcategory.code, 1, 1, `${tag} → ${r.subcategory.code} (by ${r.via})${r.conflict ? `; ${r.conflict}` : ''}`);
        if (r.categories.length === 1) {
          const c = r.categories[0] as string;
          const s = pickSub(c, 1);
          return result('channel-code', s.code, 1, s.conf, `${tag} → category ${c} (by ${r.via}); subcategory by ${s.why}`);
        }
        if (r.categories.length > 1) {
          allowed = r.categories;
          channelNote = `${tag} → one of ${r.categories.join('/')}; `;
        } else channelNote = `${tag}: ${r.conflict ?? 'names no category'}; `;
      }
    }

    // model probabilities over categories (restricted to the channel's categories, renormalised)
    let probs: Float64Array | null = null;
    if (cm && labelPred) {
      const p = cm.predict(full, labelPred.probs).probs;
      probs = this.scratch;
      probs.set(p);
      if (allowed) {
        // a soft prior, not a wall: a channel's broad code (a resident's pick above all) is a hint
        let s = 0;
        for (let i = 0; i < probs.length; i++) {
          if (!allowed.includes(cm.categories[i] as string)) probs[i] = (probs[i] as number) * this.config.channelOutsideWeight;
          s += probs[i] as number;
        }
        if (s > 0) for (let i = 0; i < probs.length; i++) probs[i] = (probs[i] as number) / s;
      }
    }
    const probOf = (c: string): number => (probs && cm ? (probs[cm.categories.indexOf(c)] ?? 0) : 0);

    // 2. decisive keyword rules
    const inAllowed = allowed ? hits.filter((x) => allowed.includes(x.subcategory.slice(0, 3))) : hits;
    if (inAllowed.length) {
      const byCat = new Map<string, number>();
      for (const x of inAllowed) {
        const c = x.subcategory.slice(0, 3);
        byCat.set(c, Math.max(byCat.get(c) ?? 0, x.score));
      }
      const top = inAllowed[0] as RuleHit;
      const topCat = top.subcategory.slice(0, 3);
      let runnerUp = 0;
      for (const [c, sc] of byCat) if (c !== topCat && sc > runnerUp) runnerUp = sc;
      const tiedInCat = inAllowed.length > 1 && (inAllowed[1] as RuleHit).score === top.score;
      const decisive = top.score >= this.config.ruleMinScore && top.score >= this.config.ruleMinMargin * runnerUp && !tiedInCat;
      const modelOk = !probs || probOf(topCat) >= this.config.ruleMinModelProb;
      steps?.push({ step: 'rules', outcome: decisive && modelOk ? `decisive: ${top.subcategory} by ${top.keywords.join('/')}` : decisive ? `keywords point to ${topCat}, but the model gives it only ${probOf(topCat).toFixed(3)}` : `not decisive (best ${top.subcategory} score ${top.score}, runner-up category ${runnerUp})`, detail: { hits: inAllowed.slice(0, 5).map((x) => ({ subcategory: x.subcategory, score: x.score, keywords: x.keywords })) } });
      if (decisive && modelOk) {
        const conf = top.score / (top.score + runnerUp + 2);
        const alts = inAllowed.slice(1, 6).map((x) => ({ subcategory: x.subcategory, confidence: round(x.score / (top.score + runnerUp + 2)) }));
        return result('rules', top.subcategory, conf, conf, `${channelNote}keywords ${top.keywords.join('/')}`, alts);
      }
    } else steps?.push({ step: 'rules', outcome: 'no keyword of the catalog in the text' });

    // 3. category model
    if (probs && cm) {
      const order = Array.from(probs.keys()).sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
      const best = cm.categories[order[0] as number] as string;
      const conf = probs[order[0] as number] as number;
      const alternatives = order.slice(0, 4).map((i) => ({ subcategory: `${cm.categories[i] as string}.000`, confidence: round(probs[i] as number) }));
      steps?.push({ step: 'model', outcome: `${best} p=${conf.toFixed(3)} (threshold ${this.config.minConfidence})`, detail: { model: cm.version, labelModel: `${this.model?.version} ${labelL1} p=${labelPred?.confidence.toFixed(3)}`, top: alternatives.map((a) => `${a.subcategory.slice(0, 3)} ${a.confidence}`) } });
      if (conf < this.config.minConfidence) {
        return result('manual', null, conf, 0, `${channelNote}model ${cm.version}: ${best} p=${conf.toFixed(3)} below ${this.config.minConfidence}`, alternatives, best);
      }
      const s = pickSub(best, conf);
      return result('model', s.code, conf, s.conf, `${channelNote}model ${cm.version}: ${best} p=${conf.toFixed(3)}; subcategory by ${s.why}`, alternatives.slice(1));
    }

    // 3'. no category model: a label decides only with a keyword-named subcategory under it
    if (!labelPred || !this.model) {
      return result('manual', null, 0, 0, `${channelNote}no decisive rule and no model`, inAllowed.slice(0, 5).map((x) => ({ subcategory: x.subcategory, confidence: 0 })));
    }
    const label = labelPred.label;
    const conf = labelPred.confidence;
    const keyed = inAllowed.find((x) => cat.l1Of(x.subcategory) === label);
    steps?.push({ step: 'model', outcome: `label model ${this.model.version}: ${label} p=${conf.toFixed(3)}; ${keyed ? `keywords name ${keyed.subcategory} under it` : 'no keyword names a subcategory under it'}` });
    if (!keyed || conf < this.config.minLabelConfidence) {
      const sug = keyed?.subcategory.slice(0, 3) ?? null;
      return result('manual', null, conf, 0, `${channelNote}model ${this.model.version}: ${label} p=${conf.toFixed(3)}${keyed ? ` below ${this.config.minLabelConfidence}` : ', no subcategory named'}`, keyed ? [{ subcategory: keyed.subcategory, confidence: round(conf) }] : [], sug);
    }
    const topCat = keyed.subcategory.slice(0, 3);
    const s = pickSub(topCat, conf);
    return result('model', s.code, conf, s.conf, `${channelNote}model ${this.model.version}: ${label} p=${conf.toFixed(3)}; ${s.why}`);
  }
}

/**
 * Pipeline stage 'classify': fills `ticket.classification` and stamps `trace.catalogVersion` with
 * the catalog in use. Pure CPU, no I/O; safe to run again on a replayed ticket (same result for the
 * same catalog and model).
 */
export class ClassifyStage implements Stage {
  readonly name = 'classify' as const;
  readonly classifier: Classifier;

  /**
   * @param catalogs the catalog store (hot-reloadable) or a fixed catalog
   * @param model the 7-label text model (null: no model step — undecided tickets go to triage)
   * @param categoryModel the category model (null: the 7-label fallback of step 3)
   */
  constructor(catalogs: CatalogStore | Catalog, model: TextModel | null, config: Partial<ClassificationConfig> = {}, categoryModel: CategoryModel | null = null) {
    this.classifier = new Classifier(catalogs, model, config, categoryModel);
  }

  run(ticket: CanonicalTicket, _out: StageOutput): CanonicalTicket {
    const cc = ticket.channelCategory;
    const r = this.classifier.classify({ text: ticket.text, title: ticket.title, channelCategory: cc ? { scheme: cc.scheme, code: cc.code, name: cc.name ?? null } : null });
    return {
      ...ticket,
      classification: {
        catalogVersion: r.catalogVersion,
        category: r.category,
        subcategory: r.subcategory,
        confidence: r.confidence,
        method: r.method,
        alternatives: r.alternatives,
      },
      trace: { ...ticket.trace, catalogVersion: r.catalogVersion },
    };
  }
}
