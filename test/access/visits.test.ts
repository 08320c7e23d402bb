import { describe, expect, it } from 'vitest';
import { decideUnknownVisit, decideVisit, decideVisitOffline, visitorDoorDenial, type VisitFacts, type VisitorDoors } from '../../src/access/policy/visits.js';

/* The visitor rules of the core (src/access/policy/visits.ts), from what the platform said. */

const T = Date.parse('2026-12-02T10:00:00Z');
const H = 3600_000;
const doors: VisitorDoors = { known: new Set(['lobby', 'reception', 'lab']), admitting: new Set(['lobby', 'reception']), reception: new Set(['reception']) };
const visit = (status: VisitFacts['status'], from = T - H, to = T + H): VisitFacts => ({ status, validFrom: from, validTo: to });

describe('visitor rules', () => {
  it('the door comes first, then lockdown', () => {
    expect(visitorDoorDenial(doors, 'nowhere', { lockdown: true })).toBe('door_unknown');
    expect(visitorDoorDenial(doors, 'lab', { lockdown: false })).toBe('visit_door_not_allowed');
    expect(visitorDoorDenial(doors, 'lobby', { lockdown: true })).toBe('lockdown');
    expect(visitorDoorDenial(doors, 'lobby', { lockdown: false })).toBeNull();
  });

  it('each visit state and window', () => {
    expect(decideVisit(visit('checked_in'), doors, 'lobby', 'deny', T)).toEqual({ result: 'granted', reason: 'granted', personId: null });
    expect(decideVisit(visit('checked_out'), doors, 'lobby', 'deny', T).reason).toBe('visit_checked_out');
    expect(decideVisit(visit('cancelled'), doors, 'lobby', 'deny', T).reason).toBe('visit_cancelled');
    expect(decideVisit(visit('checked_in'), doors, 'lobby', 'deny', T + H).reason).toBe('visit_outside_window');
    expect(decideVisit(visit('checked_in', NaN), doors, 'lobby', 'deny', T).reason).toBe('visit_outside_window');
    expect(decideVisit(visit('expected'), doors, 'lobby', 'allow-at-reception', T).reason).toBe('visit_expected');
    expect(decideVisit(visit('expected'), doors, 'reception', 'deny', T).reason).toBe('visit_expected');
    expect(decideVisit(visit('expected'), doors, 'reception', 'allow-at-reception', T).result).toBe('granted');
    expect(decideUnknownVisit().reason).toBe('visit_unknown');
  });

  it('offline: only a cached checked-in visit whose window holds the read, and only when the policy says so', () => {
    expect(decideVisitOffline('deny', visit('checked_in'), T).reason).toBe('visit_offline_denied');
    expect(decideVisitOffline('allow-cached-checked-in', undefined, T).reason).toBe('visit_offline_denied');
    expect(decideVisitOffline('allow-cached-checked-in', visit('expected'), T).reason).toBe('visit_offline_denied');
    expect(decideVisitOffline('allow-cached-checked-in', visit('checked_in'), T + H).reason).toBe('visit_offline_denied');
    expect(decideVisitOffline('allow-cached-checked-in', visit('checked_in'), T)).toEqual({ result: 'granted', reason: 'visit_offline_cached', personId: null });
  });
});
