import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema, type VisitorsConfig } from '../../src/config/schema.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import type { VisitInfo, VisitLookup, VisitVerifier } from '../../src/upstream/visit-lookup.js';
import { silentLogger } from '../../src/util/log.js';
import { visitCodeHash } from '../../src/store/visit-cache.js';
import { VisitorGate } from '../../src/visitors/visitor-gate.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const H = 3600_000;
const CODE = 'V7K2-99QX';

/** Answers scripted per call; records what it was asked. */
class ScriptedVerifier implements VisitVerifier {
  calls: { code: string; deviceId: string; timeoutMs: number }[] = [];
  next: VisitLookup | Error | 'never' = { kind: 'unknown' };
  verifyVisit(code: string, deviceId: string, timeoutMs: number): Promise<VisitLookup> {
    this.calls.push({ code, deviceId, timeoutMs });
    const next = this.next;
    if (next === 'never') return new Promise(() => undefined);
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
}

function visit(status: VisitInfo['status'], from = T0 - H, to = T0 + 8 * H): VisitLookup {
  return { kind: 'found', visit: { visitId: 'VIS-311', status, validFrom: from, validTo: to, visitorEmail: 'sam@partner.example', hostEmail: null } };
}

function siteConfig(visitors: Partial<VisitorsConfig> = {}) {
  return configSchema.parse({
    site: { id: 'hq' },
    doors: [{ id: 'reception', visitors: false }, { id: 'lobby', visitors: true }, { id: 'lab' }],
    visitors: { receptionDoors: ['reception'], verifyTimeoutMs: 500, ...visitors },
  });
}

describe('VisitorGate policy', () => {
  let db: Db;
  let cleanup: () => void;
  let clock: FakeClock;
  let verifier: ScriptedVerifier;

  beforeEach(() => {
    const t = tempDir('lintel-visit-');
    cleanup = t.cleanup;
    db = openDatabase(join(t.dir, 'lintel.db'));
    clock = new FakeClock(T0);
    verifier = new ScriptedVerifier();
  });
  afterEach(() => {
    db.close();
    cleanup();
  });

  function gate(visitors: Partial<VisitorsConfig> = {}): VisitorGate {
    const cfg = siteConfig(visitors);
    return new VisitorGate({ verifier, db, config: cfg.visitors, doors: cfg.doors, deviceId: 'gw-hq', clock, logger: silentLogger });
  }

  it('grants a checked-in visit inside its window, asking with the device id, the timeout and the upper-cased code', async () => {
    verifier.next = visit('checked_in');
    expect(await gate().decide('v7k2-99qx', 'lobby')).toEqual({ result: 'granted', reason: 'granted', personId: null });
    expect(verifier.calls).toEqual([{ code: CODE, deviceId: 'gw-hq', timeoutMs: 500 }]);
  });

  it('denies every other status with its reason', async () => {
    const g = gate();
    for (const [status, reason] of [['expected', 'visit_expected'], ['checked_out', 'visit_checked_out'], ['cancelled', 'visit_cancelled']] as const) {
      verifier.next = visit(status);
      expect(await g.decide(CODE, 'lobby'), status).toEqual({ result: 'denied', reason, personId: null });
    }
    verifier.next = { kind: 'unknown' };
    expect((await g.decide(CODE, 'lobby')).reason).toBe('visit_unknown');
  });

  it('applies the validity window: validFrom inclusive, validTo exclusive', async () => {
    const g = gate();
    const cases: [number, number, string][] = [
      [T0, T0 + H, 'granted'],
      [T0 + 1, T0 + H, 'visit_outside_window'],
      [T0 - H, T0 + 1, 'granted'],
      [T0 - H, T0, 'visit_outside_window'],
    ];
    for (const [from, to, reason] of cases) {
      verifier.next = visit('checked_in', from, to);
      expect((await g.decide(CODE, 'lobby')).reason, `${from - T0}..${to - T0}`).toBe(reason);
    }
    verifier.next = { kind: 'found', visit: { ...(visit('checked_in') as { visit: VisitInfo }).visit, validTo: Number.NaN } };
    expect((await g.decide(CODE, 'lobby')).reason).toBe('visit_outside_window');
  });

  it('refuses doors without visitor access before asking anyone', async () => {
    verifier.next = visit('checked_in');
    const g = gate();
    expect((await g.decide(CODE, 'lab')).reason).toBe('visit_door_not_allowed');
    expect((await g.decide(CODE, 'nowhere')).reason).toBe('door_unknown');
    expect((await g.decide('https://x.example', 'lobby')).reason).toBe('malformed_read');
    expect(verifier.calls).toHaveLength(0);
    // A reception door admits visitors even without `visitors: true`.
    expect((await g.decide(CODE, 'reception')).result).toBe('granted');
  });

  it('expected policy: allow-at-reception opens reception doors only', async () => {
    verifier.next = visit('expected');
    expect((await gate().decide(CODE, 'reception')).reason).toBe('visit_expected');
    const lenient = gate({ expectedPolicy: 'allow-at-reception' });
    expect(await lenient.decide(CODE, 'reception')).toEqual({ result: 'granted', reason: 'granted', personId: null });
    expect((await lenient.decide(CODE, 'lobby')).reason).toBe('visit_expected');
    verifier.next = visit('expected', T0 + H, T0 + 2 * H);
    expect((await lenient.decide(CODE, 'reception')).reason).toBe('visit_outside_window');
  });

  it('offline policy deny: refused even with a cached checked-in answer', async () => {
    const g = gate({ offlinePolicy: 'deny' });
    verifier.next = visit('checked_in');
    await g.decide(CODE, 'lobby');
    verifier.next = { kind: 'unreachable', error: 'HTTP 503' };
    expect(await g.decide(CODE, 'lobby')).toEqual({ result: 'denied', reason: 'visit_offline_denied', personId: null });
  });

  it('offline policy allow-cached-checked-in: only a cached checked-in visit inside its window', async () => {
    const g = gate({ offlinePolicy: 'allow-cached-checked-in' });
    verifier.next = { kind: 'unreachable', error: 'HTTP 503' };
    expect((await g.decide(CODE, 'lobby')).reason).toBe('visit_offline_denied'); // nothing cached
    verifier.next = visit('checked_in', T0 - H, T0 + 2 * H);
    await g.decide(CODE, 'lobby');
    verifier.next = new Error('socket hang up');
    expect(await g.decide(CODE, 'lobby')).toEqual({ result: 'granted', reason: 'visit_offline_cached', personId: null });
    expect((await g.decide(CODE, 'lab')).reason).toBe('visit_door_not_allowed'); // the door rule still holds
    expect((await g.decide('OTHER-CODE', 'lobby')).reason).toBe('visit_offline_denied');
    clock.advance(2 * H); // validTo reached: the cached answer is gone
    expect((await g.decide(CODE, 'lobby')).reason).toBe('visit_offline_denied');
  });

  it('online, a fresh answer wins over the cache (checked out since), and the cache follows it', async () => {
    const g = gate({ offlinePolicy: 'allow-cached-checked-in' });
    verifier.next = visit('checked_in');
    expect((await g.decide(CODE, 'lobby')).result).toBe('granted');
    verifier.next = visit('checked_out');
    expect((await g.decide(CODE, 'lobby')).reason).toBe('visit_checked_out');
    verifier.next = { kind: 'unreachable', error: 'timeout' };
    expect((await g.decide(CODE, 'lobby')).reason).toBe('visit_offline_denied');
    // An unknown answer forgets the cached visit too.
    verifier.next = visit('checked_in');
    await g.decide(CODE, 'lobby');
    verifier.next = { kind: 'unknown' };
    await g.decide(CODE, 'lobby');
    verifier.next = { kind: 'unreachable', error: 'timeout' };
    expect((await g.decide(CODE, 'lobby')).reason).toBe('visit_offline_denied');
  });

  it('an answer that does not match the contract denies and forgets the cache: never the offline fallback', async () => {
    const g = gate({ offlinePolicy: 'allow-cached-checked-in' });
    verifier.next = visit('checked_in');
    expect((await g.decide(CODE, 'lobby')).result).toBe('granted');
    // Say the platform now answers a status this version does not know ('no_show').
    verifier.next = { kind: 'unreadable', error: 'body does not match the contract (status)' };
    expect(await g.decide(CODE, 'lobby')).toEqual({ result: 'denied', reason: 'visit_unknown', personId: null });
    verifier.next = { kind: 'unreachable', error: 'timeout' };
    expect((await g.decide(CODE, 'lobby')).reason).toBe('visit_offline_denied'); // the cached checked-in is gone
  });

  it('stores the sha256 of the code, never the code, until validTo, and prunes expired rows', async () => {
    const g = gate({ offlinePolicy: 'allow-cached-checked-in' });
    verifier.next = visit('checked_in', T0 - H, T0 + H);
    await g.decide(CODE, 'lobby');
    verifier.next = visit('checked_in', T0 - H, T0 + 5 * H);
    await g.decide('LATE-VISIT', 'lobby');
    const rows = db.prepare('SELECT * FROM visits').all() as Record<string, unknown>[];
    expect(rows.map((r) => r.code_hash).sort()).toEqual([visitCodeHash(CODE), visitCodeHash('LATE-VISIT')].sort());
    expect(JSON.stringify(rows)).not.toContain(CODE);
    expect(g.pruneCache(T0 + H)).toBe(1);
    expect((db.prepare('SELECT COUNT(*) AS n FROM visits').get() as { n: number }).n).toBe(1);
    // An answer whose visit already ended is not cached at all.
    verifier.next = visit('checked_in', T0 - 2 * H, T0 - H);
    expect((await g.decide('OLD-VISIT', 'lobby')).reason).toBe('visit_outside_window');
    expect(db.prepare('SELECT 1 FROM visits WHERE code_hash = ?').get(visitCodeHash('OLD-VISIT'))).toBeUndefined();
  });

  it('gives up on a verifier that ignores its deadline and applies the offline policy', async () => {
    const g = gate({ verifyTimeoutMs: 500 });
    verifier.next = 'never';
    const pending = g.decide(CODE, 'lobby');
    clock.advance(749);
    clock.advance(1);
    expect(await pending).toEqual({ result: 'denied', reason: 'visit_offline_denied', personId: null });
  });
});
