import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { decideCard, type PolicyContext } from '../../src/access/decide.js';
import type { AccessModel } from '../../src/access/model.js';
import { openDatabase } from '../../src/store/db.js';
import { syncDoorsAndResources } from '../../src/store/doors.js';
import { readChangeMark } from '../../src/store/change-log.js';
import { readIndexSnapshot, writeIndexSnapshot } from '../../src/store/index-snapshot.js';
import { Store } from '../../src/store/store.js';
import { ListedSchedules } from '../access/test-schedules.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The snapshot file carries what the access model added to the index (windows with schedule
 * slots and sources, person and card validity, lost cards, group privileges), on a real SQLite
 * file; a snapshot made under another model is refused.
 */

const DAY = Date.parse('2026-12-02T00:00:00Z');
const H = 3600_000;
const DOORS = ['front', 'lab'];
const INSTANTS = [DAY - H, DAY + 9 * H, DAY + 12 * H, DAY + 20 * H, DAY + 36 * H, DAY + 30 * 24 * H];

const model: AccessModel = {
  timeZone: 'UTC',
  schedules: [{ id: 'office', weekly: [[], [], [], [], [], [], []], holiday: [] }],
  holidays: [],
  zones: [{ id: 'all', doors: DOORS }],
  groups: [
    { id: 'staff', zones: [{ zone: 'all', schedule: 'office' }], lockdownOverride: false, firstPersonIn: false },
    { id: 'security', zones: [{ zone: 'all', schedule: null }], lockdownOverride: true, firstPersonIn: true },
  ],
  areas: [],
  doors: [],
};

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

function indexUnder(m: AccessModel | null): AccessIndex {
  const index = new AccessIndex();
  if (m !== null) index.setModel(m, new ListedSchedules({ office: [[DAY + 8 * H, DAY + 18 * H]] }, [[DAY + 24 * H, DAY + 48 * H]]));
  index.setDoors(DOORS);
  return index;
}

function fill(index: AccessIndex): void {
  for (let id = 1; id <= 300; id++) {
    const card = String(50_000 + id);
    index.putPerson({
      id,
      active: id % 17 !== 0,
      tokensValidAfter: 0,
      ...(id % 5 === 0 ? { validFrom: DAY, validTo: DAY + (id % 3) * 24 * H + H } : {}),
      ...(id % 7 === 0 ? { validTo: DAY + 10 * H } : {}),
      grants: id % 2 === 0 ? [{ door: DOORS[id % 2]!, from: DAY, to: DAY + 10 * H, source: 'booking' }] : [],
      cards: [
        { number: card, active: id % 11 !== 0, ...(id % 11 === 0 ? { state: 'lost' as const } : {}), ...(id % 13 === 0 ? { validFrom: DAY + 10 * H } : {}) },
        ...(id % 19 === 0 ? [{ number: `X-${id}`, active: true, validTo: DAY }] : []),
      ],
      memberships: [
        ...(id % 3 === 0 ? [{ group: 'staff', from: -Infinity, to: Infinity }] : []),
        ...(id % 23 === 0 ? [{ group: 'security', from: DAY, to: DAY + 24 * H }] : []),
      ],
    });
  }
}

/** Every card at every door at every instant, in and out of lockdown, plus what the index holds per person. */
function view(index: AccessIndex): unknown {
  const lockdown: PolicyContext = { site: { lockdown: true } };
  const cards = Array.from({ length: 300 }, (_, i) => [String(50_001 + i), `X-${i + 1}`]).flat();
  return {
    stats: index.stats(),
    decisions: cards.map((c) => DOORS.flatMap((d) => INSTANTS.flatMap((t) => [decideCard(index, c, d, t), decideCard(index, c, d, t, lockdown).reason]))),
    people: Array.from({ length: 300 }, (_, i) => [index.personWindows(i + 1), index.personValidity(i + 1), index.lockdownOverride(i + 1, DAY + H), index.firstPersonIn(i + 1, DAY + H)]),
  };
}

function store(): { store: Store; file: string } {
  const t = tempDir('lintel-snap-model-');
  cleanup.push(t.cleanup);
  const s = new Store(openDatabase(join(t.dir, 'lintel.db')));
  cleanup.push(() => s.close());
  s.transact((tx) => syncDoorsAndResources(tx, DOORS.map((id) => ({ id, name: id })), new Map()));
  return { store: s, file: join(t.dir, 'lintel.index') };
}

describe('index snapshot under an access model', () => {
  it('round trip: windows, validity, lost cards, card validity and privileges come back as they were', () => {
    const { store: s, file } = store();
    const original = indexUnder(model);
    fill(original);
    const before = view(original);
    writeIndexSnapshot(s, original, readChangeMark(s.db).seq, file, DAY);
    const restored = indexUnder(model);
    expect(readIndexSnapshot(s.db, restored, file)).toEqual({ ok: true, seq: readChangeMark(s.db).seq });
    expect(view(restored)).toEqual(before);
    // Some of everything was exercised, so the equality above means something.
    const reasons = new Set(JSON.stringify(before).match(/"reason":"[a-z_]+"/g));
    for (const r of ['granted', 'credential_lost', 'credential_not_yet_valid', 'credential_expired', 'person_expired', 'person_not_yet_valid', 'outside_schedule', 'holiday', 'outside_window', 'no_grant', 'person_suspended'])
      expect(reasons, r).toContain(`"reason":"${r}"`);
    // And the restored index keeps working: a put after the restore replaces a person cleanly.
    restored.putPerson({ id: 11, active: true, tokensValidAfter: 0, grants: [{ door: 'lab', from: -Infinity, to: Infinity }], cards: [{ number: '50011', active: true }] });
    expect(decideCard(restored, '50011', 'lab', DAY).reason).toBe('granted');
  });

  it('a snapshot made under another model, or without one, is refused and leaves the index empty', () => {
    const { store: s, file } = store();
    const original = indexUnder(model);
    fill(original);
    writeIndexSnapshot(s, original, readChangeMark(s.db).seq, file, DAY);
    const changed = indexUnder({ ...model, zones: [{ id: 'all', doors: ['front'] }] });
    expect(readIndexSnapshot(s.db, changed, file)).toEqual({ ok: false, reason: 'made under another access model' });
    expect(changed.stats().people).toBe(0);
    expect(readIndexSnapshot(s.db, indexUnder(null), file)).toEqual({ ok: false, reason: 'made under another access model' });
    expect(() => indexUnder(null).importState(original.exportState())).toThrow(/another access model/);
  });
});
