import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { AreaDef } from '../../src/access/model.js';
import { AntiPassbackTracker, type LastResetBefore } from '../../src/access/policy/antipassback.js';

const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.parse('2026-11-23T08:00:00Z');

/** Daily resets at `resetAt` minutes after UTC midnight: the caller's job in the gateway (site zone), UTC here. */
const utcResets: LastResetBefore = (area, at) => {
  if (area.resetAt === null) return -Infinity;
  const today = Math.floor(at / DAY) * DAY + area.resetAt * MIN;
  return today <= at ? today : today - DAY;
};

function area(id: string, over: Partial<AreaDef> = {}): AreaDef {
  return { id, inReaders: [`${id}-in`], outReaders: [`${id}-out`], antiPassback: 'hard', resetAt: null, ...over };
}

const tracker = (areas: AreaDef[], maxPositionsPerArea?: number) => new AntiPassbackTracker(areas, { lastResetBefore: utcResets, maxPositionsPerArea });

describe('AntiPassbackTracker', () => {
  it('an unknown position is ok both ways; after entering, entering again is a violation and leaving is ok', () => {
    const apb = tracker([area('lab')]);
    expect(apb.check(7, 'lab-in', T0)).toBe('ok');
    expect(apb.check(7, 'lab-out', T0)).toBe('ok');
    apb.commit(7, 'lab-in', T0);
    expect(apb.check(7, 'lab-in', T0 + 1000)).toBe('violation');
    expect(apb.violation(7, 'lab-in', T0 + 1000)).toEqual({ area: 'lab', mode: 'hard', direction: 'in' });
    expect(apb.check(7, 'lab-out', T0 + 1000)).toBe('ok');
    apb.commit(7, 'lab-out', T0 + 2000);
    expect(apb.check(7, 'lab-out', T0 + 3000)).toBe('violation');
    expect(apb.violation(7, 'lab-out', T0 + 3000)).toMatchObject({ direction: 'out' });
    expect(apb.check(7, 'lab-in', T0 + 3000)).toBe('ok');
    // Another person is not affected by person 7's path.
    expect(apb.check(8, 'lab-in', T0 + 3000)).toBe('ok');
  });

  it('a check alone moves nobody: only commit (the door actually opened) records a position', () => {
    const apb = tracker([area('lab')]);
    for (let i = 0; i < 3; i++) expect(apb.check(7, 'lab-in', T0 + i)).toBe('ok');
    expect(apb.sizes()).toEqual({ lab: 0 });
  });

  it('says soft or hard per area; readers outside every area and areas that are off are always ok', () => {
    const apb = tracker([area('hall', { antiPassback: 'soft' }), area('yard', { antiPassback: 'off' })]);
    apb.commit(1, 'hall-in', T0);
    apb.commit(1, 'yard-in', T0);
    apb.commit(1, 'lobby-reader', T0);
    expect(apb.violation(1, 'hall-in', T0 + 1)).toEqual({ area: 'hall', mode: 'soft', direction: 'in' });
    expect(apb.check(1, 'yard-in', T0 + 1)).toBe('ok');
    expect(apb.check(1, 'lobby-reader', T0 + 1)).toBe('ok');
    expect(apb.sizes()).toEqual({ hall: 1 });
  });

  it('a reader in two areas moves the person in both, and a hard violation wins over a soft one', () => {
    const building = area('building', { inReaders: ['gate'], outReaders: ['exit'], antiPassback: 'soft' });
    const vault = area('vault', { inReaders: ['gate', 'vault-in'], outReaders: ['vault-out'], antiPassback: 'hard' });
    const apb = tracker([building, vault]);
    apb.commit(3, 'gate', T0);
    expect(apb.violation(3, 'gate', T0 + 1)).toEqual({ area: 'vault', mode: 'hard', direction: 'in' });
    apb.commit(3, 'vault-out', T0 + 2);
    // Out of the vault, still inside the building: the gate is now a soft violation only.
    expect(apb.violation(3, 'gate', T0 + 3)).toEqual({ area: 'building', mode: 'soft', direction: 'in' });
    expect(apb.check(3, 'vault-in', T0 + 3)).toBe('ok');
  });

  it('forgets positions older than the last daily reset, by time, with no call at the reset', () => {
    const apb = tracker([area('lab', { resetAt: 3 * 60 })]); // 03:00 UTC
    const evening = Date.parse('2026-11-23T22:00:00Z');
    apb.commit(5, 'lab-in', evening);
    expect(apb.check(5, 'lab-in', Date.parse('2026-11-24T02:59:59.999Z'))).toBe('violation');
    expect(apb.check(5, 'lab-in', Date.parse('2026-11-24T03:00:00Z'))).toBe('ok');
    // A position taken at or after the reset instant counts again.
    apb.commit(5, 'lab-in', Date.parse('2026-11-24T03:00:00Z'));
    expect(apb.check(5, 'lab-in', Date.parse('2026-11-24T09:00:00Z'))).toBe('violation');
  });

  it('an area without resetAt never forgets by time', () => {
    const apb = tracker([area('lab')]);
    apb.commit(5, 'lab-in', T0);
    expect(apb.check(5, 'lab-in', T0 + 400 * DAY)).toBe('violation');
  });

  it('sweep frees stale positions (commit order: it stops at the first fresh one)', () => {
    const apb = tracker([area('lab', { resetAt: 0 }), area('hall')]);
    apb.commit(1, 'lab-in', T0);
    apb.commit(2, 'lab-out', T0 + MIN);
    apb.commit(3, 'hall-in', T0);
    apb.commit(4, 'lab-in', T0 + DAY); // after the next midnight
    expect(apb.sweep(T0 + DAY + MIN)).toBe(2);
    expect(apb.sizes()).toEqual({ lab: 1, hall: 1 });
    expect(apb.check(4, 'lab-in', T0 + DAY + MIN)).toBe('violation');
  });

  it('forgive clears one person in every area; forgiveAll clears everyone', () => {
    const apb = tracker([area('lab'), area('hall')]);
    apb.commit(1, 'lab-in', T0);
    apb.commit(1, 'hall-in', T0);
    apb.commit(2, 'lab-in', T0);
    apb.forgive(1);
    expect(apb.check(1, 'lab-in', T0 + 1)).toBe('ok');
    expect(apb.check(1, 'hall-in', T0 + 1)).toBe('ok');
    expect(apb.check(2, 'lab-in', T0 + 1)).toBe('violation');
    apb.forgiveAll();
    expect(apb.check(2, 'lab-in', T0 + 1)).toBe('ok');
    expect(apb.sizes()).toEqual({ lab: 0, hall: 0 });
  });

  it('is bounded: past the cap the oldest position goes (that person becomes unknown, never denied)', () => {
    const apb = tracker([area('lab')], 3);
    apb.commit(1, 'lab-in', T0);
    apb.commit(2, 'lab-out', T0 + 1);
    apb.commit(3, 'lab-in', T0 + 2);
    apb.commit(1, 'lab-out', T0 + 3); // person 1 moves: now the newest
    apb.commit(4, 'lab-in', T0 + 4); // drops person 2, the oldest
    expect(apb.sizes()).toEqual({ lab: 3 });
    expect(apb.evicted).toBe(1);
    expect(apb.check(2, 'lab-out', T0 + 5)).toBe('ok');
    expect(apb.check(1, 'lab-out', T0 + 5)).toBe('violation');
    expect(apb.check(3, 'lab-in', T0 + 5)).toBe('violation');
  });

  it('a reload keeps the positions of areas that keep their id and drops the others', () => {
    const apb = tracker([area('lab'), area('hall')]);
    apb.commit(1, 'lab-in', T0);
    apb.commit(1, 'hall-in', T0);
    apb.setAreas([area('lab', { inReaders: ['lab-in-2'], antiPassback: 'soft' }), area('hall', { antiPassback: 'off' })]);
    expect(apb.violation(1, 'lab-in-2', T0 + 1)).toEqual({ area: 'lab', mode: 'soft', direction: 'in' });
    expect(apb.check(1, 'lab-in', T0 + 1)).toBe('ok'); // no longer a reader of any area
    apb.setAreas([area('lab'), area('hall')]);
    expect(apb.check(1, 'hall-in', T0 + 1)).toBe('ok'); // switched off in between: forgotten
    expect(apb.check(1, 'lab-in', T0 + 1)).toBe('violation');
  });

  it('refuses a reader that is both an in and an out reader of one area, and a cap below 1', () => {
    expect(() => tracker([area('lab', { outReaders: ['lab-in'] })])).toThrow(/lab: reader lab-in is both/);
    expect(() => tracker([area('lab')], 0)).toThrow(/maxPositionsPerArea/);
  });

  it('costs about 60 bytes a position (the figure in the module header)', () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const n = 100_000;
    const apb = tracker([area('lab')], n);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) apb.commit(i * 13 + 1, i % 2 === 0 ? 'lab-in' : 'lab-out', T0 + i * 7);
    gc();
    const perPosition = (process.memoryUsage().heapUsed - before) / n;
    expect(apb.sizes()).toEqual({ lab: n });
    expect(perPosition).toBeGreaterThan(20);
    expect(perPosition).toBeLessThan(120);
  });
});
