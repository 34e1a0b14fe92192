import { loadCatalog } from '../catalog/catalog';
import { testTicket } from '../catalog/testing';
import type { CanonicalTicket } from '../schema/types.generated';
import { FakeClock } from '../clock';
import { ConfigError } from '../errors';
import { RouteStage, Router, departmentTopic, type RoutingConfig } from './router';
import { addWorkingDays, dueTime, isWorkingDay } from './sla';

const catalog = loadCatalog();
const sub = (code: string): { code: string; name: string } => {
  const s = catalog.subcategory(code);
  if (!s) throw new Error(`no ${code}`);
  return { code: s.code, name: s.name };
};
const byName = (name: string): string => {
  const s = catalog.subcategories.find((x) => x.name === name);
  if (!s) throw new Error(`no ${name}`);
  return s.code;
};

function classified(code: string, over: Partial<CanonicalTicket> = {}, confidence = 0.95, method: CanonicalTicket['classification']['method'] = 'model'): CanonicalTicket {
  const s = sub(code);
  const c = catalog.categoryOf(code);
  return testTicket({
    classification: { catalogVersion: catalog.version, category: c ? { code: c.code, name: c.name } : null, subcategory: s, confidence, method, alternatives: [] },
    ...over,
  });
}
const loc = (district: string | null, street: string | null, community: string | null = null): CanonicalTicket['location'] => ({ address: null, point: null, district, street, community, grid: null });

// Monday 2026-01-05 09:00 Beijing time
const MON_9 = '2026-01-05T01:00:00.000Z';

describe('Router rules', () => {
  const router = new Router(catalog);
  const noise = byName('噪声扰民'); // territorial (城管, C03)
  const pension = byName('职工养老保险'); // functional

  it('triage:unclassified — no subcategory goes to the manual triage queue', () => {
    const r = router.route(testTicket({ classification: { catalogVersion: catalog.version, category: null, subcategory: null, confidence: 0.2, method: 'manual', alternatives: [] } }));
    expect(r).toMatchObject({ status: 'triage', rule: 'triage:unclassified', department: '12345分拨中心', territorial: null });
    expect(r.dueAt).toBe('2026-01-05T03:00:00.000Z');
  });

  it("a matter's urgency floor: a gas emergency is P1 with the 2 h SLA even when the ticket said normal", () => {
    const gas = byName('天然气抢修类问题');
    expect(catalog.subcategory(gas)?.minUrgency).toBe('critical');
    const r = router.route(classified(gas, { urgency: 'normal' }, 1, 'channel-code'));
    expect(r).toMatchObject({ status: 'routed', department: '市燃气集团', priority: 'P1', dueAt: '2026-01-05T03:00:00.000Z' });
    expect(r.reason).toMatch(/floor; ticket said normal/);
    // no floor: the ticket's own urgency
    expect(router.route(classified(pension, { urgency: 'normal' })).priority).toBe('P3');
  });

  it('triage:low-confidence — a model guess below the threshold is not routed', () => {
    const r = router.route(classified(pension, {}, 0.2));
    expect(r).toMatchObject({ status: 'triage', rule: 'triage:low-confidence' });
    expect(r.reason).toMatch(/0\.2 < 0\.25/);
  });

  it('triage:unknown-subcategory — a code from another catalog', () => {
    const t = classified(pension);
    t.classification.subcategory = { code: 'C99.123', name: 'x' };
    expect(router.route(t).rule).toBe('triage:unknown-subcategory');
  });

  it('functional — the subcategory department, no territory', () => {
    const r = router.route(classified(pension, { location: loc('A1区', '东塘街道') }));
    expect(r).toMatchObject({ status: 'routed', rule: 'functional', department: '市人力资源和社会保障局', territorial: false, jurisdiction: 'A1区/东塘街道', priority: 'P3' });
    expect(r.reason).toMatch(/functional department/);
  });

  it('territorial:street — the street office leads, the functional department co-handles', () => {
    const r = router.route(classified(noise, { location: loc('A1区', '东塘街道', '湘春社区') }));
    expect(r).toMatchObject({ rule: 'territorial:street', department: 'A1区东塘街道办事处', coHandlers: ['市城市管理局'], territorial: true, jurisdiction: 'A1区/东塘街道/湘春社区' });
  });

  it('territorial:street — a town uses the town government format', () => {
    const r = router.route(classified(noise, { location: loc('G3县', '大湖口镇') }));
    expect(r.department).toBe('G3县大湖口镇人民政府');
  });

  it('territorial:district — street unknown: the district government (兜底)', () => {
    const r = router.route(classified(noise, { location: loc('A2区', null) }));
    expect(r).toMatchObject({ rule: 'territorial:district', department: 'A2区人民政府', coHandlers: ['市城市管理局'] });
  });

  it('territorial:no-jurisdiction — no district: the supervising department', () => {
    const r = router.route(classified(noise));
    expect(r).toMatchObject({ rule: 'territorial:no-jurisdiction', department: '市城市管理局', territorial: true, jurisdiction: null });
  });

  it('channel-code classifications route even at confidence 1 without threshold questions', () => {
    expect(router.route(classified(noise, {}, 1, 'channel-code')).status).toBe('routed');
  });
});

describe('city overrides', () => {
  const pension = byName('职工养老保险');
  const noise = byName('噪声扰民');
  const cfg: Partial<RoutingConfig> = {
    overrides: [
      { id: 'a1-noise-police', match: { subcategory: [noise], district: ['A1区'], textContains: ['深夜'] }, department: 'A1区公安分局', coHandlers: ['A1区城管执法大队'], priority: 'P2', reason: 'A1区: night noise goes to the police' },
      { id: 'c15-social-security-centre', match: { category: ['C15'], channel: ['message-board'] }, department: '市社会保险事业管理中心', sla: { workingDays: 10 } },
      { id: 'noise-central', match: { subcategory: [noise], appealType: ['report'] }, territorial: false },
      { id: 'critical-any', match: { urgency: ['critical'], category: ['C03'] }, sla: { hours: 1 } },
    ],
  };
  const router = new Router(catalog, cfg);

  it('matches on subcategory + district + text, recording rule id and reason', () => {
    const r = router.route(classified(noise, { text: '深夜KTV噪音扰民', location: loc('A1区', '东塘街道') }));
    expect(r).toMatchObject({ rule: 'override:a1-noise-police', department: 'A1区公安分局', coHandlers: ['A1区城管执法大队'], priority: 'P2' });
    expect(r.reason).toMatch(/night noise/);
  });

  it('does not match when one field differs', () => {
    const r = router.route(classified(noise, { text: '白天噪音', location: loc('A1区', '东塘街道') }));
    expect(r.rule).toBe('territorial:street');
  });

  it('matches on category + channel and applies its SLA', () => {
    const t = classified(pension, { source: { ...testTicket().source, channel: 'message-board' } });
    const r = router.route(t);
    expect(r).toMatchObject({ rule: 'override:c15-social-security-centre', department: '市社会保险事业管理中心' });
    expect(r.dueAt).toBe('2026-01-19T01:00:00.000Z'); // 10 working days from Mon 5 Jan
  });

  it('an override without department can change the territorial flag', () => {
    const r = router.route(classified(noise, { appealType: 'report', location: loc('A1区', '东塘街道') }));
    expect(r).toMatchObject({ rule: 'functional', territorial: false, department: '市城市管理局' });
    expect(r.reason).toMatch(/override noise-central/);
  });

  it('an override can set the SLA by urgency', () => {
    const r = router.route(classified(byName('暴露垃圾'), { urgency: 'critical', location: loc('A1区', '东塘街道') }));
    expect(r.dueAt).toBe('2026-01-05T02:00:00.000Z');
    expect(r.priority).toBe('P1');
  });

  it('rejects duplicate override ids', () => {
    expect(() => new Router(catalog, { overrides: [{ id: 'x', match: { category: ['C01'] } }, { id: 'x', match: { category: ['C02'] } }] })).toThrow(ConfigError);
  });
});

describe('SLA and priority', () => {
  const router = new Router(catalog);
  const pension = byName('职工养老保险'); // general profile: critical 2 h, urgent 24 h, normal 7 working days

  it('computes the due time from urgency', () => {
    expect(router.route(classified(pension, { urgency: 'critical' })).dueAt).toBe('2026-01-05T03:00:00.000Z');
    expect(router.route(classified(pension, { urgency: 'urgent' })).dueAt).toBe('2026-01-06T01:00:00.000Z');
    // 7 working days from Monday 5 Jan → Wednesday 14 Jan (skips the weekend of 10/11 Jan)
    expect(router.route(classified(pension, { urgency: 'normal' })).dueAt).toBe('2026-01-14T01:00:00.000Z');
  });

  it('gives P1/P2/P3 by urgency and P4 for consultations', () => {
    expect(router.route(classified(pension, { urgency: 'critical' })).priority).toBe('P1');
    expect(router.route(classified(pension, { urgency: 'urgent' })).priority).toBe('P2');
    expect(router.route(classified(pension, { appealType: 'consult' })).priority).toBe('P4');
    expect(router.route(classified(pension, { appealType: 'consult', urgency: 'urgent' })).priority).toBe('P2');
  });

  it('working days skip weekends, configured holidays, and count 调休 workdays', () => {
    const fri = Date.parse('2026-01-09T01:00:00.000Z');
    expect(new Date(addWorkingDays(fri, 1)).toISOString()).toBe('2026-01-12T01:00:00.000Z');
    const cal = { utcOffsetMinutes: 480, holidays: ['2026-01-12'], workdays: ['2026-01-10'] };
    expect(new Date(addWorkingDays(fri, 1, cal)).toISOString()).toBe('2026-01-10T01:00:00.000Z');
    expect(new Date(addWorkingDays(fri, 2, cal)).toISOString()).toBe('2026-01-13T01:00:00.000Z');
    expect(isWorkingDay(Date.parse('2026-01-11T01:00:00.000Z'))).toBe(false);
  });

  it('counts from the next working day when received on a weekend, in local time', () => {
    // Saturday 10 Jan 23:30 Beijing = Sat 15:30 UTC: treated as received Monday 23:30, due Tuesday 23:30
    const sat = Date.parse('2026-01-10T15:30:00.000Z');
    expect(new Date(dueTime(sat, { workingDays: 1 })).toISOString()).toBe('2026-01-13T15:30:00.000Z');
    // Sunday 00:30 Beijing is still Saturday in UTC: local time decides
    const sunLocal = Date.parse('2026-01-10T16:30:00.000Z');
    expect(isWorkingDay(sunLocal)).toBe(false);
    expect(dueTime(sat, { hours: 24 })).toBe(sat + 86_400_000);
  });

  it('decides every local day as the ISO-date reading of the calendar does, at any offset', () => {
    const reference = (ms: number, cal: { utcOffsetMinutes: number; holidays: string[]; workdays: string[] }): boolean => {
      const d = new Date(ms + cal.utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
      if (cal.workdays.includes(d)) return true;
      if (cal.holidays.includes(d)) return false;
      const dow = new Date(ms + cal.utcOffsetMinutes * 60_000).getUTCDay();
      return dow !== 0 && dow !== 6;
    };
    const holidays = ['1969-12-31', '2026-01-01', '2026-02-16', '2026-02-17', '2026-10-01', '2026-10-02'];
    const workdays = ['2026-01-04', '2026-02-14', '2026-10-10'];
    let checked = 0;
    let differ = 0;
    for (const utcOffsetMinutes of [480, 0, -300, 345, 840]) {
      const cal = { utcOffsetMinutes, holidays, workdays };
      // every 53 minutes from late 1969 to early 2027 (crosses every local midnight at some hour)
      for (let ms = Date.parse('1969-12-25T00:00:00Z'); ms < Date.parse('1970-01-10T00:00:00Z'); ms += 53 * 60_000) {
        checked++;
        if (isWorkingDay(ms, cal) !== reference(ms, cal)) differ++;
      }
      for (let ms = Date.parse('2025-12-20T00:00:00Z'); ms < Date.parse('2027-01-10T00:00:00Z'); ms += 53 * 60_000) {
        checked++;
        if (isWorkingDay(ms, cal) !== reference(ms, cal)) differ++;
      }
    }
    expect(checked).toBeGreaterThan(50_000);
    expect(differ).toBe(0);
  });

  it('uses the router clock when receivedAt is unusable', () => {
    const clock = new FakeClock(Date.parse(MON_9));
    const r = new Router(catalog, {}, clock).route(classified(pension, { urgency: 'critical', source: { ...testTicket().source, receivedAt: 'garbage' } }));
    expect(r.dueAt).toBe('2026-01-05T03:00:00.000Z');
  });

  it('uses the safety SLA profile for dangerous matters', () => {
    const r = router.route(classified(byName('燃气井盖'), { urgency: 'normal' }));
    expect(r.reason).toMatch(/SLA normal 24 h/);
  });
});

describe('RouteStage and fan-out', () => {
  it('fills ticket.routing', () => {
    const stage = new RouteStage(catalog);
    expect(stage.name).toBe('route');
    const t = stage.run(classified(byName('职工养老保险')), { events: [] });
    expect(t.routing.status).toBe('routed');
    expect(t.routing.rule).toBe('functional');
  });

  it('names per-department topics when fan-out is enabled', () => {
    const router = new Router(catalog, { fanOut: { enabled: true, topicPrefix: 'tickets.dept.' } });
    const r = router.route(classified(byName('噪声扰民'), { location: loc('A1区', '东塘街道') }));
    const topics = router.topicsFor(r);
    expect(topics).toHaveLength(2);
    for (const t of topics) expect(t).toMatch(/^tickets\.dept\.[0-9a-f]+$/);
    expect(departmentTopic('police')).toBe('tickets.dept.police');
    expect(new Router(catalog).topicsFor(r)).toEqual([]);
  });
});
