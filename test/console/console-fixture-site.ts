import type { Operator } from '../../src/console/operator.js';
import { createConsole, type Console } from '../../src/http/console/console-app.js';
import type { GatewayStatus } from '../../src/http/status.js';
import type { LatencyBucket } from '../../src/http/console/view-model.js';
import { Metrics } from '../../src/metrics.js';
import type { DecisionListener } from '../../src/pipeline/decision-recorder.js';
import { RecentDecisions, type DecisionEvent } from '../../src/pipeline/recent-decisions.js';
import { AuditLog } from '../../src/store/audit.js';
import { importCards } from '../../src/store/card-import.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { cookieSessions, fixedSession, formCsrf, RecordingActions } from '../helpers/console-fixtures.js';
import { testStore } from '../helpers/store.js';

/** A console over a real SQLite store with two people (one without a card) and a few decisions. */
export function consoleSite(opts: { timeZone?: string; alarms?: GatewayStatus['alarms']; latency?: LatencyBucket[]; upstream?: GatewayStatus['upstream']; locations?: GatewayStatus['locations'] } = {}) {
  const site = testStore(['front', 'back']);
  const clock = new FakeClock(Date.parse('2026-12-03T09:00:00Z'));
  importCards(site.store, 'email,name,card,format,doors\nana@example.com,"Ana <b>Lima</b>",7340861,decimal,front\n', clock.now());
  site.store.transact((tx) => tx.people.upsert('zoe@example.com', 'Zoe Pending', clock.now()));
  const anaId = (site.store.db.prepare("SELECT id FROM people WHERE email = 'ana@example.com'").get() as { id: number }).id;
  const recent = new RecentDecisions();
  const listeners: DecisionListener[] = [];
  const doorListeners = new Set<() => void>();
  const decide = (e: DecisionEvent, personId: number | null) => {
    recent.push(e, personId);
    for (const l of listeners) l(e, personId);
  };
  decide({ at: clock.now() - 60_000, readerId: 'desk', doorId: 'front', credential: '*****61', kind: 'card', result: 'granted', reason: 'granted', relay: 'sent', source: 'staff' }, anaId);
  decide({ at: clock.now() - 30_000, readerId: 'desk', doorId: 'front', credential: '*****01', kind: 'card', result: 'denied', reason: 'unknown_credential', relay: 'none' }, null);
  const status: GatewayStatus = {
    site: 'hq', version: '0.1.0', startedAt: clock.now() - 3_600_000, now: clock.now(), health: 'degraded',
    checks: { database: { ok: true, detail: 'open' }, 'door:back': { ok: false, detail: 'controller offline' } },
    index: { people: 2, cards: 1, grants: 1, doors: 2 },
    doors: [
      { id: 'front', name: 'Front <entrance>', driver: 'lintel', acks: 'command-id', online: true, relay: 'locked', contact: 'closed', lastAck: 'ok at 2026-12-03T08:59:00.000Z', ackLatencyMs: 42, hold: { by: 'console:olga', until: Date.parse('2026-12-03T10:00:00Z'), schedule: false } },
      { id: 'back', name: 'Back', driver: 'lintel', acks: null, online: false, relay: 'unknown', contact: 'unknown', lastAck: null, ackLatencyMs: null, hold: null },
    ],
    readers: [{ id: 'desk', kind: 'stdin', door: 'front', connected: true, lines: 2, dropped: { overlong: 0, garbage: 1 }, reconnects: 0, lastError: null, lastReadAt: Date.parse('2026-12-03T08:58:00Z') }],
    mqtt: { connected: true, url: 'mqtt://127.0.0.1:1883' },
    upstream: opts.upstream ?? null,
    ...(opts.locations ? { locations: opts.locations } : {}),
    recent: recent.list(),
    alarms: opts.alarms ?? [],
  };
  const actions = new RecordingActions();
  const metrics = new Metrics();
  const make = (operator: Operator | null | Record<string, { operator: Operator; token: string }>, token = 'tok-1', limits = {}): Console =>
    createConsole({
      session: operator === null || 'role' in operator ? fixedSession(operator as Operator | null, token) : cookieSessions(operator),
      csrf: formCsrf,
      actions,
      status: () => ({ ...status, recent: recent.list() }),
      live: {
        recent,
        onDecision: (l) => void listeners.push(l),
        onDoorState: (l) => {
          doorListeners.add(l);
          return () => void doorListeners.delete(l);
        },
      },
      store: site.store,
      timeZone: () => opts.timeZone ?? 'Europe/Zurich',
      clock,
      logger: silentLogger,
      metrics,
      limits,
      ...(opts.latency ? { latency: async () => opts.latency! } : {}),
    });
  return { ...site, doorChanged: () => doorListeners.forEach((l) => l()), doorListeners, clock, recent, decide, actions, make, anaId, audit: new AuditLog(site.store.db), metrics };
}
