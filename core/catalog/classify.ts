import type { CanonicalTicket } from '../schema/types.generated';
import type { Stage, StageOutput } from '../pipeline/stage';
import type { Catalog, CatalogStore } from './catalog';
import type { TextModel } from './model';
import { rulesFor, type RuleHit } from './rules';

/**
 * The classification cascade. Each ticket goes down the steps until one decides, and the step is
 * recorded in `classification.method`:
 *
 * 1. `channel-code` — the channel's own code (ticket.channelCategory) through the catalog mapping.
 *    When it maps to a category's general subcategory (e.g. a message-board domain), keyword rules
 *    narrow it to a subcategory of that category.
 * 2. `rules` — keyword rules, only when decisive: the best subcategory scores at least
 *    `ruleMinScore` and its category leads every other category by `ruleMinMargin`.
 * 3. `model` — the text model predicts one of the 7 message-board labels; keyword rules pick the
 *    subcategory among the categories projecting onto that label, else the label's default
 *    subcategory (catalog `l1Defaults`). Category/subcategory below the label are rule-based.
 * 4. `manual` — the model's confidence is below `minConfidence`: no category is set; the router
 *    sends the ticket to the manual triage queue. `alternatives` carries the model's candidates.
 */

export interface ClassificationConfig {
  /**
   * Below this model probability the ticket goes to manual triage. The default 0.62 is the smallest
   * threshold whose auto-routed out-of-fold rows reach 95% accuracy in 5-fold CV on the training files
   * (calibrated model l1-2026.11.3; bench/classify/calibrate.ts, docs/catalog.md).
   */
  minConfidence: number;
  /** Minimum keyword-rule score (Σ keyword lengths, title ×2) for the rules step to decide. */
  ruleMinScore: number;
  /** The rules step decides only if its category's score is ≥ this × the runner-up category's. */
  ruleMinMargin: number;
  /** Use ticket.channelCategory through the catalog mapping. */
  useChannelCodes: boolean;
}

export const DEFAULT_CLASSIFICATION_CONFIG: ClassificationConfig = { minConfidence: 0.62, ruleMinScore: 12, ruleMinMargin: 2, useChannelCodes: true };

/** JSON Schema fragment for hub.yaml (`classification:`), with descriptions and defaults. */
export const classificationConfigSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'The classification cascade: channel code → keyword rules → text model → manual triage. See docs/catalog.md.',
  properties: {
    catalogFile: { type: ['string', 'null'], default: null, description: 'A city catalog file replacing the default schemas/catalog/default.catalog.json. Reloadable without restart.' },
    modelFile: { type: ['string', 'null'], default: null, description: 'A trained text model file (intake-hub catalog train) replacing the shipped core/catalog/models/l1-model.json.' },
    minConfidence: { type: 'number', minimum: 0, maximum: 1, default: DEFAULT_CLASSIFICATION_CONFIG.minConfidence, description: 'Model probability below which a ticket goes to the manual triage queue.' },
    ruleMinScore: { type: 'number', minimum: 1, default: DEFAULT_CLASSIFICATION_CONFIG.ruleMinScore, description: 'Minimum keyword-rule score (sum of matched keyword lengths, title matches count twice) for the rules step to decide alone.' },
    ruleMinMargin: { type: 'number', minimum: 1, default: DEFAULT_CLASSIFICATION_CONFIG.ruleMinMargin, description: "The rules step decides only when the best category's score is at least this multiple of the runner-up category's." },
    useChannelCodes: { type: 'boolean', default: true, description: "Classify by the channel's own code (ticket.channelCategory) when the catalog maps it." },
  },
} as const;

export type Method = 'channel-code' | 'rules' | 'model' | 'manual';

export interface ClassifyInput {
  text: string;
  title?: string | null;
  channelCategory?: { scheme: string; code: string } | null;
}

export interface ClassifyResult {
  catalogVersion: string;
  method: Method;
  category: { code: string; name: string } | null;
  subcategory: { code: string; name: string } | null;
  confidence: number;
  /** The projection of the (suggested) category onto the 7 message-board labels. */
  labelL1: string | null;
  alternatives: Array<{ subcategory: string; confidence: number }>;
  /** What decided: the channel code, the keywords, or the model label. */
  evidence: string;
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

export class Classifier {
  readonly config: ClassificationConfig;

  constructor(
    private readonly catalogs: CatalogStore | Catalog,
    private readonly model: TextModel | null,
    config: Partial<ClassificationConfig> = {},
  ) {
    this.config = { ...DEFAULT_CLASSIFICATION_CONFIG, ...config };
  }

  private catalog(): Catalog {
    const c = this.catalogs as Partial<CatalogStore>;
    return typeof c.current === 'function' ? (c.current() as Catalog) : (this.catalogs as Catalog);
  }

  classify(input: ClassifyInput): ClassifyResult {
    const cat = this.catalog();
    const rules = rulesFor(cat);
    const text = input.text ?? '';
    const title = input.title ?? null;
    let hits: RuleHit[] | undefined;
    const getHits = (): RuleHit[] => (hits ??= rules.match(text, title));

    const result = (method: Method, subCode: string | null, confidence: number, evidence: string, alternatives: ClassifyResult['alternatives'] = [], l1?: string | null): ClassifyResult => {
      const sub = subCode ? cat.subcategory(subCode) : undefined;
      const c = subCode ? cat.categoryOf(subCode) : undefined;
      return {
        catalogVersion: cat.version,
        method,
        category: c ? { code: c.code, name: c.name } : null,
        subcategory: sub ? { code: sub.code, name: sub.name } : null,
        confidence: round(confidence),
        labelL1: l1 !== undefined ? l1 : subCode ? (cat.l1Of(subCode) ?? null) : null,
        alternatives: alternatives.filter((a) => a.subcategory !== subCode).slice(0, 5),
        evidence,
      };
    };

    // 1. channel code
    const cc = input.channelCategory;
    if (this.config.useChannelCodes && cc && cc.scheme && cc.code) {
      const sub = cat.byChannelCode(cc.scheme, cc.code);
      if (sub) {
        if (sub.code.endsWith('.000')) {
          const prefix = sub.code.slice(0, 4);
          const inCat = getHits().find((h) => h.subcategory.startsWith(prefix));
          if (inCat) return result('channel-code', inCat.subcategory, 0.9, `${cc.scheme}:${cc.code} → ${sub.code}; keywords ${inCat.keywords.join('/')}`);
        }
        return result('channel-code', sub.code, 1, `${cc.scheme}:${cc.code}`);
      }
    }

    // 2. decisive keyword rules
    const h = getHits();
    if (h.length) {
      const byCat = new Map<string, number>();
      for (const x of h) {
        const c = x.subcategory.slice(0, 3);
        byCat.set(c, Math.max(byCat.get(c) ?? 0, x.score));
      }
      const top = h[0] as RuleHit;
      const topCat = top.subcategory.slice(0, 3);
      let runnerUp = 0;
      for (const [c, s] of byCat) if (c !== topCat && s > runnerUp) runnerUp = s;
      const tiedInCat = h.length > 1 && (h[1] as RuleHit).score === top.score;
      if (top.score >= this.config.ruleMinScore && top.score >= this.config.ruleMinMargin * runnerUp && !tiedInCat) {
        const conf = top.score / (top.score + runnerUp + 2);
        const alts = h.slice(1, 6).map((x) => ({ subcategory: x.subcategory, confidence: round(x.score / (top.score + runnerUp + 2)) }));
        return result('rules', top.subcategory, conf, `keywords ${top.keywords.join('/')}`, alts);
      }
    }

    // 3. model
    if (!this.model) {
      const alts = h.slice(0, 5).map((x) => ({ subcategory: x.subcategory, confidence: 0 }));
      return result('manual', null, 0, 'no decisive rule and no model', alts, null);
    }
    const p = this.model.predict(title ? `${title}\n${text}` : text);
    const label = p.label;
    const conf = p.confidence;
    const labels = this.model.labels;
    const ranked = Array.from(p.probs, (pr, i) => ({ label: labels[i] as string, pr })).sort((a, b) => b.pr - a.pr);
    // best keyword-matched subcategory per label, in one pass over the hits (best first)
    let bestInLabel: Map<string, string> | undefined;
    for (const x of h) {
      const l1 = cat.l1Of(x.subcategory);
      if (l1 === undefined) continue;
      bestInLabel ??= new Map();
      if (!bestInLabel.has(l1)) bestInLabel.set(l1, x.subcategory);
    }
    const pick = (l1: string): string | undefined => bestInLabel?.get(l1) ?? cat.doc.l1Defaults[l1];
    const alternatives = ranked
      .slice(1, 4)
      .map((r) => ({ subcategory: pick(r.label) ?? '', confidence: round(r.pr) }))
      .filter((a) => a.subcategory);
    const sub = pick(label) ?? null;
    if (conf < this.config.minConfidence || !sub) {
      return result('manual', null, conf, `model ${this.model.version}: ${label} p=${conf.toFixed(3)} below ${this.config.minConfidence}`, sub ? [{ subcategory: sub, confidence: round(conf) }, ...alternatives] : alternatives, label);
    }
    return result('model', sub, conf, `model ${this.model.version}: ${label} p=${conf.toFixed(3)}`, alternatives, label);
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
   * @param model the text model (null: no model step — undecided tickets go to triage)
   */
  constructor(catalogs: CatalogStore | Catalog, model: TextModel | null, config: Partial<ClassificationConfig> = {}) {
    this.classifier = new Classifier(catalogs, model, config);
  }

  run(ticket: CanonicalTicket, _out: StageOutput): CanonicalTicket {
    const cc = ticket.channelCategory;
    const r = this.classifier.classify({ text: ticket.text, title: ticket.title, channelCategory: cc ? { scheme: cc.scheme, code: cc.code } : null });
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
