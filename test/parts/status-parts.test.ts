import { describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { parseConfig } from '../../src/config/load.js';
import type { ReaderStatus } from '../../src/readers/reader.js';
import { buildStatus, mergeStatusParts, type StatusPart } from '../../src/status-builder.js';

/* The status the gateway builds from what each running part reports (parts/part.ts status()). */

const config = parseConfig({
  site: { id: 'st' },
  doors: [{ id: 'front' }, { id: 'lab' }],
  readers: [
    { id: 'desk', kind: 'stdin', door: 'front' },
    { id: 'lab-osdp', kind: 'stdin', door: 'lab' },
  ],
});

const reader = (id: string, connected: boolean): { status(): ReaderStatus } => ({
  status: () => ({ id, kind: 'stdin', connected, lines: 0, dropped: { overlong: 0, garbage: 0 }, reconnects: 0, lastError: connected ? null : 'port gone' }),
});

const build = (parts: StatusPart[]) => buildStatus({ ...mergeStatusParts(parts), config, version: 't', startedAt: 0, now: 1000 });

describe('status from parts', () => {
  it('with no part running the gateway cannot decide: failing, database closed', () => {
    const s = build([]);
    expect(s.health).toBe('failing');
    expect(s.checks.database).toEqual({ ok: false, detail: 'closed' });
    expect(s.index).toEqual({ people: 0, cards: 0, grants: 0, doors: 0 });
    expect(s.readers).toEqual([]);
  });

  it('adds up the readers, alarms and checks of several parts; a failing part check degrades health', () => {
    const store: StatusPart = { dbOpen: true, index: new AccessIndex() };
    const serial: StatusPart = { readers: [reader('desk', true)] };
    const osdp: StatusPart = {
      readers: [reader('lab-osdp', false)],
      alarms: [{ kind: 'reader_locked', readerId: 'lab-osdp', until: 5000, detail: 'locked' }],
      checks: { 'osdp:bus': { ok: false, detail: 'no answer from address 1' } },
    };
    const s = build([store, serial, osdp]);
    expect(s.readers.map((r) => [r.id, r.door, r.connected])).toEqual([
      ['desk', 'front', true],
      ['lab-osdp', 'lab', false],
    ]);
    expect(s.checks['reader:lab-osdp']).toEqual({ ok: false, detail: 'port gone' });
    expect(s.checks['osdp:bus']).toEqual({ ok: false, detail: 'no answer from address 1' });
    expect(s.alarms).toHaveLength(1);
    expect(s.health).toBe('degraded'); // the database is open: doors with working parts keep working
  });

  it('a link file fault from the files part is a failing check named after its field', () => {
    const s = build([{ dbOpen: true }, { linkFileFaults: [{ field: 'mqtt.passwordFile', problem: 'cannot read' }] }]);
    expect(s.checks['file:mqtt.passwordFile']).toEqual({ ok: false, detail: 'cannot read' });
  });

  it('a part\'s own check cannot replace a check a section makes', () => {
    const s = build([{ dbOpen: false }, { checks: { database: { ok: true, detail: 'fine, says another part' } } }]);
    expect(s.checks.database).toEqual({ ok: false, detail: 'closed' });
    expect(s.health).toBe('failing');
  });
  it("carries the door hold, each reader's last read and the platform's last callback, sweep and subscriptions", () => {
    const holds: StatusPart = { holds: [{ door: 'front', operator: { until: 9000, by: 'console:olga' }, schedule: true, lastPulseAt: 900, lastPulse: 'sent' }] };
    const decisions: StatusPart = { lastReads: new Map([['desk', 700]]) };
    const readers: StatusPart = { readers: [reader('desk', true), reader('lab-osdp', true)] };
    const report = { at: 800, durationMs: 12, resources: 1, appointments: 2, changed: 1, failed: 0 };
    const upstream: StatusPart = {
      upstream: {
        status: () => ({
          state: 'ok', lastError: null, lastSuccessAt: 800, lastReconcile: report, unknownResources: [],
          subscriptions: [{ id: 'sub-1', resources: ['R-1'], expiresAt: 5000, state: 'active' }],
          callbacks: { accepted: 1, duplicates: 0, rejected: {}, lastAcceptedAt: 750 },
        }),
      },
    };
    const s = build([{ dbOpen: true }, holds, decisions, readers, upstream]);
    expect(s.doors.map((d) => [d.id, d.hold])).toEqual([['front', { by: 'console:olga', until: 9000, schedule: true }], ['lab', null]]);
    expect(s.readers.map((r) => [r.id, r.lastReadAt])).toEqual([['desk', 700], ['lab-osdp', null]]);
    expect(s.upstream).toMatchObject({ lastCallbackAt: 750, lastReconcile: { at: 800, durationMs: 12, changed: 1, failed: 0 }, subscriptions: [{ id: 'sub-1', state: 'active', expiresAt: 5000 }] });
  });
});
