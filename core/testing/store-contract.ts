import { testTicket } from '../catalog/testing';
import { deterministicUlid } from '../ids';
import type { CanonicalTicket, ClusterEvent } from '../schema/types';
import { SCHEMA_VERSION } from '../store/migrations';
import type { TicketStore } from '../store/types';

/** Test data shared by the store tests: tickets and cluster events as the pipeline publishes them. */
export const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);

export function ticketAt(n: number, over: Partial<CanonicalTicket> = {}): CanonicalTicket {
  const at = T0 + n * 60_000;
  const id = deterministicUlid(at, `t${n}`);
  const base = testTicket();
  return testTicket({
    id,
    source: { ...base.source, channel: n % 2 === 0 ? 'hotline-12345' : 'resident-app', connectorId: n % 2 === 0 ? 'hotline' : 'app', sourceId: `S${n}`, receivedAt: new Date(at).toISOString() },
    text: `第${n}号工单：小区门口井盖破损`,
    dedup: { ...base.dedup, key: `k:${n}` },
    ...over,
  });
}

export function clusterEvent(type: ClusterEvent['type'], clusterId: string, ticketId: string, atMs: number, size: number, over: Partial<ClusterEvent> = {}): ClusterEvent {
  return {
    schemaVersion: 'cluster-event/v1',
    id: deterministicUlid(atMs, `${ticketId}:${type}:${clusterId}`),
    type,
    at: new Date(atMs).toISOString(),
    clusterId,
    primaryTicketId: clusterId,
    ticketId,
    size,
    reporterCount: size,
    mergedFrom: [],
    link: type === 'hot' ? null : { from: ticketId, to: clusterId, score: { text: 0.8, place: 1, total: 0.86 } },
    block: 'district:包河区',
    ...over,
  };
}

/**
 * The TicketStore contract, run against every implementation (SQLite in the unit project,
 * PostgreSQL in the integration project). `open` returns a fresh, empty, migrated store.
 */
export function describeStoreContract(name: string, open: () => Promise<TicketStore>): void {
  describe(`TicketStore contract: ${name}`, () => {
    let store: TicketStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    test('migrations are versioned and re-running them changes nothing', async () => {
      expect(await store.migrate()).toBe(SCHEMA_VERSION);
      expect(await store.migrate()).toBe(SCHEMA_VERSION);
      expect(await store.count()).toBe(0);
    });

    test('apply upserts tickets by id and stores positions in the same transaction; applying twice is applying once', async () => {
      const ts = [0, 1, 2].map((n) => ticketAt(n));
      const batch = { consumer: 'c', tickets: ts, events: [], positions: [{ topic: 'tickets.canonical.v1', partition: 0, next: '3' }] };
      await store.apply(batch);
      await store.apply(batch);
      expect(await store.count()).toBe(3);
      expect(await store.positions('c')).toEqual([{ topic: 'tickets.canonical.v1', partition: 0, next: '3' }]);
      expect(await store.positions('other')).toEqual([]);
      // a later version of a ticket replaces the earlier one
      const v2 = { ...ticketAt(1), title: '新标题' };
      await store.apply({ consumer: 'c', tickets: [v2], events: [], positions: [{ topic: 'tickets.canonical.v1', partition: 0, next: '4' }] });
      expect((await store.ticket(v2.id))?.ticket.title).toBe('新标题');
      expect(await store.count()).toBe(3);
      expect((await store.positions('c'))[0]?.next).toBe('4');
    });

    test('a failing batch commits nothing: neither tickets nor positions', async () => {
      const bad = { ...ticketAt(5), id: null as unknown as string };
      // (the driver's error may come from another realm than jest's Error: assert the rejection itself)
      const outcome = await store.apply({ consumer: 'c', tickets: [ticketAt(4), bad], events: [], positions: [{ topic: 't', partition: 0, next: '9' }] }).then(
        () => 'committed',
        () => 'rejected',
      );
      expect(outcome).toBe('rejected');
      expect(await store.count()).toBe(0);
      expect(await store.positions('c')).toEqual([]);
    });

    test('ticket lists filter by channel, source id, status and time, newest first, with a keyset cursor that visits every ticket once', async () => {
      const ts = Array.from({ length: 25 }, (_, n) => ticketAt(n));
      await store.apply({ consumer: 'c', tickets: ts, events: [], positions: [] });
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let guard = 0; guard < 10; guard++) {
        const page = await store.tickets({}, { limit: 10, cursor });
        seen.push(...page.items.map((i) => i.id));
        cursor = page.next;
        if (!cursor) break;
      }
      expect(seen).toEqual(ts.map((t) => t.id).reverse());
      const hot = await store.tickets({ channel: 'hotline-12345' }, { limit: 100 });
      expect(hot.items).toHaveLength(13);
      expect(hot.items.every((i) => i.channel === 'hotline-12345')).toBe(true);
      expect((await store.tickets({ sourceId: 'S7' }, { limit: 10 })).items.map((i) => i.id)).toEqual([ts[7]?.id]);
      expect((await store.tickets({ sinceMs: T0 + 20 * 60_000 }, { limit: 100 })).items).toHaveLength(5);
      expect((await store.tickets({ status: 'triage' }, { limit: 100 })).items).toHaveLength(0);
      await expect(store.tickets({}, { limit: 10, cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
    });

    test('triage queue: tickets in triage without an assignment, oldest first; an assignment is recorded and leaves the queue', async () => {
      const triage = (n: number) => ticketAt(n, { routing: { ...testTicket().routing, status: 'triage', reason: 'low confidence' } });
      await store.apply({ consumer: 'c', tickets: [triage(1), triage(2), ticketAt(3), triage(4)], events: [], positions: [] });
      const q = await store.triage({ limit: 2 });
      expect(q.items.map((i) => i.sourceId)).toEqual(['S1', 'S2']);
      const q2 = await store.triage({ limit: 2, cursor: q.next });
      expect(q2.items.map((i) => i.sourceId)).toEqual(['S4']);
      expect(q2.next).toBeNull();
      const id = triage(2).id;
      const a = { ticketId: id, category: { code: 'C01', name: '城乡建设' }, subcategory: { code: 'C01.001', name: '井盖' }, department: '市政局', actor: 'op-1', at: new Date(T0).toISOString(), note: null };
      expect(await store.assign(a)).toBe('assigned');
      expect(await store.assign({ ...a, ticketId: ticketAt(3).id })).toBe('not-in-triage');
      expect(await store.assign({ ...a, ticketId: 'NOPE' })).toBe('not-found');
      expect((await store.triage({ limit: 10 })).items.map((i) => i.sourceId)).toEqual(['S1', 'S4']);
      const got = await store.ticket(id);
      expect(got?.triage).toEqual(a);
      // a replay of the ticket (same version re-materialised) keeps the operator's assignment
      await store.apply({ consumer: 'c', tickets: [triage(2)], events: [], positions: [] });
      expect((await store.ticket(id))?.triage?.subcategory.code).toBe('C01.001');
      const listed = (await store.tickets({ sourceId: 'S2' }, { limit: 1 })).items[0];
      expect(listed?.triaged).toBe(true);
      expect(listed?.subcategory).toEqual({ code: 'C01.001', name: '井盖' });
    });

    test('cluster events build summaries, hot flags and members; merges move members whatever the arrival order', async () => {
      const a0 = ticketAt(0);
      const a1 = ticketAt(1);
      const b0 = ticketAt(2);
      const b1 = ticketAt(3);
      const A = a0.id;
      const B = b0.id;
      const withCluster = (t: CanonicalTicket, id: string, role: 'primary' | 'member'): CanonicalTicket => ({ ...t, cluster: { id, role, score: role === 'member' ? { text: 0.9, total: 0.9 } : null } });
      // the merge of B into A arrives before B's member tickets (another partition)
      const merged = clusterEvent('merged', A, b1.id, T0 + 3 * 60_000, 4, { mergedFrom: [B] });
      await store.apply({ consumer: 'c', tickets: [withCluster(a0, A, 'primary'), withCluster(a1, A, 'member')], events: [clusterEvent('created', A, a1.id, T0 + 60_000, 2)], positions: [] });
      await store.apply({ consumer: 'c', tickets: [], events: [merged], positions: [] });
      await store.apply({ consumer: 'c', tickets: [withCluster(b0, B, 'primary'), withCluster(b1, B, 'member')], events: [clusterEvent('created', B, b1.id, T0 + 2 * 60_000, 2)], positions: [] });
      await store.apply({ consumer: 'c', tickets: [], events: [clusterEvent('hot', A, b1.id, T0 + 3 * 60_000, 4, { hot: { reporters: 4, windowHours: 24, threshold: 3 } })], positions: [] });
      const c = await store.cluster(A, 100);
      expect(c?.size).toBe(4);
      expect(c?.hot).toBe(true);
      expect(c?.hotReporters).toBe(4);
      expect(c?.members.map((m) => m.ticketId).sort()).toEqual([a0.id, a1.id, b0.id, b1.id].sort());
      expect(c?.members.find((m) => m.ticketId === a1.id)?.score).toEqual({ text: 0.9, total: 0.9 });
      expect(c?.events[0]?.type).toBe('hot');
      expect((await store.cluster(B, 100))?.mergedInto).toBe(A);
      expect((await store.ticket(b0.id))?.clusterId).toBe(A);
      expect((await store.clusters({ hot: true, sort: 'recent', limit: 10 })).map((x) => x.id)).toEqual([A]);
      expect((await store.clusters({ sort: 'size', limit: 10 })).map((x) => x.id)).toEqual([A]);
      // replaying every event again changes nothing
      await store.apply({ consumer: 'c', tickets: [], events: [clusterEvent('created', A, a1.id, T0 + 60_000, 2), merged, clusterEvent('created', B, b1.id, T0 + 2 * 60_000, 2)], positions: [] });
      expect((await store.cluster(A, 100))?.size).toBe(4);
      expect((await store.cluster(A, 100))?.events).toHaveLength(3);
      // a ticket that never joined anything is a one-member cluster of its own
      const lone = ticketAt(9, { cluster: { id: 'LONE', role: 'primary', score: null } });
      await store.apply({ consumer: 'c', tickets: [lone], events: [], positions: [] });
      expect((await store.cluster('LONE', 10))?.size).toBe(1);
      expect(await store.cluster('NOPE', 10)).toBeNull();
    });

    test('overdue counts open tickets past their due time per channel, every channel present', async () => {
      const due = (n: number, dueMs: number) => ticketAt(n, { routing: { ...testTicket().routing, status: 'routed', dueAt: new Date(dueMs).toISOString() } });
      await store.apply({ consumer: 'c', tickets: [due(0, T0), due(2, T0 + 10 * 3600_000), due(1, T0 + 3600_000), ticketAt(3)], events: [], positions: [] });
      const o = await store.overdue(T0 + 2 * 3600_000);
      expect(o['hotline-12345']).toBe(1);
      expect(o['resident-app']).toBe(1);
      expect(o['grid-worker']).toBe(0);
      expect(Object.keys(o)).toHaveLength(6);
    });

    test('intake counts per channel and per connector in time buckets', async () => {
      await store.apply({ consumer: 'c', tickets: Array.from({ length: 120 }, (_, n) => ticketAt(n)), events: [], positions: [] });
      const hourly = await store.intake(T0, 3600_000, 'channel');
      expect(hourly).toEqual([
        { key: 'hotline-12345', bucket: T0, count: 30 },
        { key: 'resident-app', bucket: T0, count: 30 },
        { key: 'hotline-12345', bucket: T0 + 3600_000, count: 30 },
        { key: 'resident-app', bucket: T0 + 3600_000, count: 30 },
      ]);
      const byConnector = await store.intake(T0 + 3600_000, 3600_000, 'connector');
      expect(byConnector.map((r) => `${r.key}:${r.count}`)).toEqual(['app:30', 'hotline:30']);
    });
  });
}
