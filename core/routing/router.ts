import type { CanonicalTicket } from '../schema/types.generated';
import type { Stage, StageOutput } from '../pipeline/stage';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { ConfigError } from '../errors';
import type { Catalog, CatalogStore } from '../catalog/catalog';
import type { Subcategory, Urgency } from '../catalog/types';
import { DEFAULT_CALENDAR, describeLimit, dueTime, type WorkCalendar } from './sla';

/**
 * Routing: from a classified ticket to its handling unit.
 *
 * Decision order (the first that applies wins; its id goes to `routing.rule`, a human sentence to
 * `routing.reason`):
 *
 * | rule id                          | when                                                                  |
 * |----------------------------------|-----------------------------------------------------------------------|
 * | `triage:unclassified`            | no subcategory (classification method `manual`/`none`)               |
 * | `triage:low-confidence`          | confidence below `minConfidence` (method `model` or `rules`)          |
 * | `triage:unknown-subcategory`     | the subcategory is not in the catalog in use                          |
 * | `override:<id>`                  | a city override matches (category/subcategory/channel/district/…)     |
 * | `territorial:street`             | a territorial (属地) matter with a known street: the street office    |
 * | `territorial:district`           | territorial, street unknown: the district government                  |
 * | `territorial:no-jurisdiction`    | territorial, no district known: the supervising department            |
 * | `functional`                     | the subcategory's functional department                               |
 *
 * Territorial routes add the subcategory's functional department as co-handler (协办). The SLA due
 * time comes from the subcategory's SLA for the ticket's urgency (or the override's), counted from
 * `source.receivedAt`. Triage routes go to `triageDepartment` with the general SLA of
 * `triageSlaHours`.
 */

export type Priority = 'P1' | 'P2' | 'P3' | 'P4';

export interface OverrideMatch {
  category?: string[];
  subcategory?: string[];
  channel?: string[];
  district?: string[];
  street?: string[];
  appealType?: string[];
  urgency?: Urgency[];
  /** Any of these substrings in the title or text. */
  textContains?: string[];
}

export interface RoutingOverride {
  id: string;
  match: OverrideMatch;
  department?: string;
  coHandlers?: string[];
  /** Replace the territorial flag (e.g. a district that handles a matter centrally). */
  territorial?: boolean;
  priority?: Priority;
  sla?: { hours: number } | { workingDays: number };
  reason?: string;
}

export interface RoutingConfig {
  minConfidence: number;
  triageDepartment: string;
  triageSlaHours: number;
  /** Street office name: `{district}`, `{street}` placeholders. Towns (镇/乡) use `townOfficeFormat`. */
  streetOfficeFormat: string;
  townOfficeFormat: string;
  districtOfficeFormat: string;
  priorityByUrgency: Record<Urgency, Priority>;
  /** Appeal types lowered to P4 when the urgency is normal (consultations, suggestions, praise). */
  lowPriorityAppealTypes: string[];
  overrides: RoutingOverride[];
  calendar: WorkCalendar;
  /** Optional fan-out: per-department topic names `<prefix><department id>`. */
  fanOut: { enabled: boolean; topicPrefix: string };
}

export const DEFAULT_ROUTING_CONFIG: RoutingConfig = {
  // below the classifier's own triage threshold (0.32): the router only catches results a city
  // configured the classifier to let through at lower confidence
  minConfidence: 0.25,
  triageDepartment: '12345分拨中心',
  triageSlaHours: 2,
  streetOfficeFormat: '{district}{street}办事处',
  townOfficeFormat: '{district}{street}人民政府',
  districtOfficeFormat: '{district}人民政府',
  priorityByUrgency: { critical: 'P1', urgent: 'P2', normal: 'P3' },
  lowPriorityAppealTypes: ['consult', 'suggestion', 'praise'],
  overrides: [],
  calendar: DEFAULT_CALENDAR,
  fanOut: { enabled: false, topicPrefix: 'tickets.dept.' },
};

const stringList = { type: 'array', items: { type: 'string', maxLength: 128 } } as const;
const priority = { enum: ['P1', 'P2', 'P3', 'P4'] } as const;

/** JSON Schema fragment for hub.yaml (`routing:`), with descriptions and defaults. */
export const routingConfigSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Routing of classified tickets to departments, territory and SLA. See docs/catalog.md.',
  properties: {
    minConfidence: { type: 'number', minimum: 0, maximum: 1, default: DEFAULT_ROUTING_CONFIG.minConfidence, description: 'Classification confidence below which a ticket goes to the manual triage queue.' },
    triageDepartment: { type: 'string', maxLength: 128, default: DEFAULT_ROUTING_CONFIG.triageDepartment, description: 'Who works the manual triage queue (分拨).' },
    triageSlaHours: { type: 'number', exclusiveMinimum: 0, default: DEFAULT_ROUTING_CONFIG.triageSlaHours, description: 'Time allowed to triage a ticket by hand.' },
    streetOfficeFormat: { type: 'string', maxLength: 128, default: DEFAULT_ROUTING_CONFIG.streetOfficeFormat, description: 'Lead unit for territorial matters: {district}, {street} placeholders.' },
    townOfficeFormat: { type: 'string', maxLength: 128, default: DEFAULT_ROUTING_CONFIG.townOfficeFormat, description: 'As streetOfficeFormat, for streets that are towns (镇/乡).' },
    districtOfficeFormat: { type: 'string', maxLength: 128, default: DEFAULT_ROUTING_CONFIG.districtOfficeFormat, description: 'Lead unit for territorial matters whose street is unknown (兜底).' },
    priorityByUrgency: {
      type: 'object',
      additionalProperties: false,
      default: DEFAULT_ROUTING_CONFIG.priorityByUrgency,
      properties: { critical: priority, urgent: priority, normal: priority },
      description: 'Priority per ticket urgency.',
    },
    lowPriorityAppealTypes: { ...stringList, default: DEFAULT_ROUTING_CONFIG.lowPriorityAppealTypes, description: 'Appeal types given P4 when urgency is normal.' },
    overrides: {
      type: 'array',
      default: [],
      description: 'City overrides, first match wins. All given match fields must match (each a list of accepted values).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'match'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', maxLength: 64, description: 'Recorded as routing.rule "override:<id>".' },
          match: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              category: stringList,
              subcategory: stringList,
              channel: stringList,
              district: stringList,
              street: stringList,
              appealType: stringList,
              urgency: { type: 'array', items: { enum: ['normal', 'urgent', 'critical'] } },
              textContains: stringList,
            },
          },
          department: { type: 'string', maxLength: 128 },
          coHandlers: { ...stringList, maxItems: 10 },
          territorial: { type: 'boolean' },
          priority,
          sla: {
            oneOf: [
              { type: 'object', additionalProperties: false, required: ['hours'], properties: { hours: { type: 'number', exclusiveMinimum: 0 } } },
              { type: 'object', additionalProperties: false, required: ['workingDays'], properties: { workingDays: { type: 'integer', minimum: 1 } } },
            ],
          },
          reason: { type: 'string', maxLength: 300 },
        },
      },
    },
    calendar: {
      type: 'object',
      additionalProperties: false,
      default: DEFAULT_CALENDAR,
      description: 'Working-day calendar for SLA due times in working days.',
      properties: {
        utcOffsetMinutes: { type: 'integer', minimum: -720, maximum: 840, default: 480, description: 'Local time of the city (China: 480).' },
        holidays: { type: 'array', default: [], items: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, description: 'Public holidays (local dates), skipped.' },
        workdays: { type: 'array', default: [], items: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, description: 'Weekend dates declared working days (调休), counted.' },
      },
    },
    fanOut: {
      type: 'object',
      additionalProperties: false,
      default: DEFAULT_ROUTING_CONFIG.fanOut,
      description: 'Optionally also publish each routed ticket to a per-department topic.',
      properties: {
        enabled: { type: 'boolean', default: false },
        topicPrefix: { type: 'string', maxLength: 100, default: 'tickets.dept.' },
      },
    },
  },
} as const;

export type RoutingDecision = CanonicalTicket['routing'];

function fmt(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '');
}

function inList(list: string[] | undefined, v: string | null | undefined): boolean {
  return list === undefined || (v != null && list.includes(v));
}

/** A per-department topic name safe for Kafka (`[a-zA-Z0-9._-]`): non-ASCII names are hex-encoded. */
export function departmentTopic(department: string, prefix = DEFAULT_ROUTING_CONFIG.fanOut.topicPrefix): string {
  const ascii = /^[A-Za-z0-9._-]+$/.test(department) ? department : Buffer.from(department, 'utf8').toString('hex').slice(0, 200);
  return prefix + ascii;
}

export class Router {
  readonly config: RoutingConfig;

  constructor(
    private readonly catalogs: CatalogStore | Catalog,
    config: Partial<RoutingConfig> = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.config = { ...DEFAULT_ROUTING_CONFIG, ...config, calendar: { ...DEFAULT_CALENDAR, ...(config.calendar ?? {}) } };
    const ids = new Set<string>();
    this.config.overrides.forEach((o, i) => {
      if (ids.has(o.id)) throw new ConfigError(`routing override id "${o.id}" is used twice`, { dataPath: `/routing/overrides/${i}/id` });
      ids.add(o.id);
    });
  }

  private catalog(): Catalog {
    const c = this.catalogs as Partial<CatalogStore>;
    return typeof c.current === 'function' ? (c.current() as Catalog) : (this.catalogs as Catalog);
  }

  private baseTime(t: CanonicalTicket): number {
    const ms = Date.parse(t.source?.receivedAt ?? '');
    return Number.isFinite(ms) ? ms : this.clock.now();
  }

  private priority(t: CanonicalTicket, urgency: Urgency = t.urgency): Priority {
    const p = this.config.priorityByUrgency[urgency] ?? 'P3';
    if (urgency === 'normal' && this.config.lowPriorityAppealTypes.includes(t.appealType)) return 'P4';
    return p;
  }

  private jurisdiction(t: CanonicalTicket): string | null {
    const l = t.location;
    const parts = [l?.district, l?.street, l?.community].filter((x): x is string => !!x);
    return parts.length ? parts.join('/') : null;
  }

  private triage(t: CanonicalTicket, rule: string, reason: string): RoutingDecision {
    return {
      status: 'triage',
      department: this.config.triageDepartment,
      coHandlers: [],
      jurisdiction: this.jurisdiction(t),
      territorial: null,
      rule,
      reason: reason.slice(0, 500),
      dueAt: new Date(this.baseTime(t) + this.config.triageSlaHours * 3_600_000).toISOString(),
      priority: this.priority(t),
    };
  }

  private matches(o: RoutingOverride, t: CanonicalTicket, sub: Subcategory): boolean {
    const m = o.match;
    if (!inList(m.subcategory, sub.code)) return false;
    if (!inList(m.category, sub.code.split('.')[0])) return false;
    if (!inList(m.channel, t.source?.channel)) return false;
    if (!inList(m.district, t.location?.district)) return false;
    if (!inList(m.street, t.location?.street)) return false;
    if (!inList(m.appealType, t.appealType)) return false;
    if (m.urgency && !m.urgency.includes(t.urgency)) return false;
    if (m.textContains) {
      const s = `${t.title ?? ''}\n${t.text}`;
      if (!m.textContains.some((k) => s.includes(k))) return false;
    }
    return true;
  }

  /** Decides the routing of a classified ticket. */
  route(t: CanonicalTicket): RoutingDecision {
    const c = t.classification;
    if (!c || c.method === 'manual' || c.method === 'none' || !c.subcategory) {
      return this.triage(t, 'triage:unclassified', `not classified (method ${c?.method ?? 'none'}): manual triage`);
    }
    if ((c.method === 'model' || c.method === 'rules') && c.confidence < this.config.minConfidence) {
      return this.triage(t, 'triage:low-confidence', `classification ${c.subcategory.code} by ${c.method} at confidence ${c.confidence} < ${this.config.minConfidence}: manual triage`);
    }
    const cat = this.catalog();
    const sub = cat.subcategory(c.subcategory.code);
    if (!sub) return this.triage(t, 'triage:unknown-subcategory', `subcategory ${c.subcategory.code} is not in catalog ${cat.version}: manual triage`);

    const base = this.baseTime(t);
    // a matter's own floor (a gas leak is critical whatever the channel said)
    const rank: Record<Urgency, number> = { normal: 0, urgent: 1, critical: 2 };
    const given: Urgency = t.urgency ?? 'normal';
    const urgency: Urgency = sub.minUrgency && rank[sub.minUrgency] > rank[given] ? sub.minUrgency : given;
    const override = this.config.overrides.find((o) => this.matches(o, t, sub));
    const territorial = override?.territorial ?? sub.territorial;
    const limit = override?.sla ?? sub.sla[urgency];
    const dueAt = new Date(dueTime(base, limit, this.config.calendar)).toISOString();
    const slaText = `SLA ${urgency}${urgency !== given ? ` (the matter's floor; ticket said ${given})` : ''} ${describeLimit(limit)}`;
    const priority = override?.priority ?? this.priority(t, urgency);
    const jurisdiction = this.jurisdiction(t);
    const subText = `${sub.code} ${sub.name}`;

    if (override?.department) {
      return {
        status: 'routed',
        department: override.department,
        coHandlers: (override.coHandlers ?? sub.coHandlers ?? []).slice(0, 10),
        jurisdiction,
        territorial,
        rule: `override:${override.id}`,
        reason: `${override.reason ?? 'city override'} (${subText}); ${slaText}`.slice(0, 500),
        dueAt,
        priority,
      };
    }

    const co = (extra: string[]): string[] => [...new Set([...extra, ...(override?.coHandlers ?? sub.coHandlers ?? [])])].slice(0, 10);
    const why = override ? `; override ${override.id}` : '';
    if (territorial) {
      const district = t.location?.district ?? null;
      const street = t.location?.street ?? null;
      if (district && street) {
        const format = /[镇乡]$/.test(street) ? this.config.townOfficeFormat : this.config.streetOfficeFormat;
        return {
          status: 'routed',
          department: fmt(format, { district, street }),
          coHandlers: co([sub.department]),
          jurisdiction,
          territorial: true,
          rule: 'territorial:street',
          reason: `${subText} is a territorial (属地) matter: street ${street} of ${district} leads, ${sub.department} co-handles${why}; ${slaText}`.slice(0, 500),
          dueAt,
          priority,
        };
      }
      if (district) {
        return {
          status: 'routed',
          department: fmt(this.config.districtOfficeFormat, { district, street: '' }),
          coHandlers: co([sub.department]),
          jurisdiction,
          territorial: true,
          rule: 'territorial:district',
          reason: `${subText} is a territorial (属地) matter, street unknown: district ${district} leads (兜底)${why}; ${slaText}`.slice(0, 500),
          dueAt,
          priority,
        };
      }
      return {
        status: 'routed',
        department: sub.department,
        coHandlers: co([]),
        jurisdiction,
        territorial: true,
        rule: 'territorial:no-jurisdiction',
        reason: `${subText} is a territorial (属地) matter but the ticket has no district: supervising department ${sub.department}${why}; ${slaText}`.slice(0, 500),
        dueAt,
        priority,
      };
    }
    return {
      status: 'routed',
      department: sub.department,
      coHandlers: co([]),
      jurisdiction,
      territorial: false,
      rule: 'functional',
      reason: `${subText} is handled by functional department ${sub.department}${why}; ${slaText}`.slice(0, 500),
      dueAt,
      priority,
    };
  }

  /** Fan-out topics for a routed ticket (empty unless `fanOut.enabled`). */
  topicsFor(r: RoutingDecision): string[] {
    if (!this.config.fanOut.enabled || r.status !== 'routed' || !r.department) return [];
    return [r.department, ...r.coHandlers].map((d) => departmentTopic(d, this.config.fanOut.topicPrefix));
  }
}

/** Pipeline stage 'route': fills `ticket.routing` from `ticket.classification`. Pure, no I/O. */
export class RouteStage implements Stage {
  readonly name = 'route' as const;
  readonly router: Router;

  constructor(catalogs: CatalogStore | Catalog, config: Partial<RoutingConfig> = {}, clock: Clock = systemClock) {
    this.router = new Router(catalogs, config, clock);
  }

  run(ticket: CanonicalTicket, _out: StageOutput): CanonicalTicket {
    return { ...ticket, routing: this.router.route(ticket) };
  }
}
