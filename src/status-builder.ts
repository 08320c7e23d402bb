import type { AccessIndex } from './access/access-index.js';
import type { Config } from './config/schema.js';
import type { DoorHoldStatus } from './doors/door-hold.js';
import type { DoorRelay, DoorStatusEntry } from './doors/door-relay.js';
import { redactUrl } from './doors/mqtt-options.js';
import type { Alarm, GatewayStatus } from './http/status.js';
import type { RecentDecisions } from './pipeline/recent-decisions.js';
import type { ReaderSource } from './readers/reader.js';
import type { UpstreamLink } from './upstream/upstream-link.js';
import type { UpstreamStatus } from './upstream/upstream-sync.js';

type Check = GatewayStatus['checks'][string];

function holdOf(h: DoorHoldStatus | undefined): GatewayStatus['doors'][number]['hold'] {
  if (!h || (h.operator === null && !h.schedule)) return null;
  return { by: h.operator?.by ?? null, until: h.operator?.until ?? null, schedule: h.schedule };
}

/** One part's share of the status (parts/part.ts): each reports what it owns. */
export interface StatusPart {
  index?: Pick<AccessIndex, 'stats'>;
  dbOpen?: boolean;
  relay?: Pick<DoorRelay, 'connected' | 'doorStatus'>;
  readers?: readonly Pick<ReaderSource, 'status'>[];
  upstream?: Pick<UpstreamLink, 'status'> | null;
  /** Every location (config/locations.ts) with its link's status, null where no link runs. */
  locations?: () => ReadonlyArray<{ id: string; name: string; connection: string; onDisconnect: string; upstream: UpstreamStatus | null }>;
  recent?: Pick<RecentDecisions, 'list'>;
  /** Doors held unlocked (doors/door-hold.ts), by an operator or a schedule. */
  holds?: readonly DoorHoldStatus[];
  /** When each reader last gave a line that was decided (any result), by reader id. */
  lastReads?: ReadonlyMap<string, number>;
  alarms?: Alarm[];
  /** Audit rows waiting in memory because the store cannot take them now. */
  auditBacklog?: { queued: number; lastError: string | null };
  /** Files a link needs (token, password, TLS) that cannot be used: each is a failing check, with its reason (never its content). */
  linkFileFaults?: ReadonlyArray<{ field: string; problem: string }>;
  /** Checks of a part the sections above do not name (key → ok and why); a failing one degrades health. */
  checks?: Record<string, Check>;
}

export interface StatusInputs extends StatusPart {
  config: Config;
  version: string;
  startedAt: number;
  now: number;
}

/**
 * The parts' shares as one set of inputs: lists (readers, alarms, link faults, checks) add up,
 * as two reader parts both have readers; a section one part owns is taken from that part.
 */
export function mergeStatusParts(parts: readonly StatusPart[]): StatusPart {
  const out: StatusPart = {};
  const readers: Array<Pick<ReaderSource, 'status'>> = [];
  const alarms: Alarm[] = [];
  const faults: Array<{ field: string; problem: string }> = [];
  const checks: Record<string, Check> = {};
  for (const p of parts) {
    const { readers: r, alarms: a, linkFileFaults: f, checks: c, ...owned } = p;
    Object.assign(out, owned);
    readers.push(...(r ?? []));
    alarms.push(...(a ?? []));
    faults.push(...(f ?? []));
    Object.assign(checks, c);
  }
  return { ...out, readers, alarms, linkFileFaults: faults, checks };
}

/**
 * A door is healthy when its controller says it is online and answered the latest unlock it was
 * sent. A door that never reported (no controller on the broker, no retained state), one whose
 * controller went offline (its last will), and one whose last unlock went unanswered past the
 * ack timeout all fail: a grant there may not open anything. An unanswered unlock stays a fault
 * until the door's next ack, late or not, shows the controller is back. Details name states,
 * never a door's name: /health and /readyz are public.
 */
export function doorCheck(entry: DoorStatusEntry | undefined, mqttConnected: boolean): Check {
  if (!mqttConnected) return { ok: false, detail: 'unknown: the broker is disconnected' };
  if (!entry || entry.online === null) return { ok: false, detail: 'no report from its controller yet' };
  if (!entry.online) return { ok: false, detail: 'controller offline' };
  if (entry.ackMissedAt !== null) return { ok: false, detail: `unlock not acknowledged (${new Date(entry.ackMissedAt).toISOString()}); no ack since` };
  return { ok: true, detail: 'online' };
}

/** The checks /readyz requires: the gateway can decide (store, index) and open doors (broker, every door). */
export function readinessChecks(checks: GatewayStatus['checks']): GatewayStatus['checks'] {
  const ready: GatewayStatus['checks'] = {};
  for (const [key, check] of Object.entries(checks)) {
    if (key === 'database' || key === 'index' || key === 'mqtt' || key.startsWith('door:')) ready[key] = check;
  }
  return ready;
}

const NO_INDEX = { people: 0, cards: 0, grants: 0, doors: 0 };

/** One link's status as /api/status shows it (the top-level `upstream` and each location's). */
function upstreamSummary(up: UpstreamStatus): NonNullable<GatewayStatus['upstream']> {
  return {
    state: up.state,
    lastError: up.lastError,
    lastSuccessAt: up.lastSuccessAt,
    unknownResources: up.unknownResources,
    lastCallbackAt: up.callbacks.lastAcceptedAt ?? null,
    lastReconcile: up.lastReconcile ? { at: up.lastReconcile.at, durationMs: up.lastReconcile.durationMs, changed: up.lastReconcile.changed, failed: up.lastReconcile.failed } : null,
    subscriptions: up.subscriptions.map((x) => ({ id: x.id, state: x.state, expiresAt: x.expiresAt })),
    detail: up,
  };
}

/**
 * One snapshot for /health, /api/status and the page. `failing` only when the gateway cannot
 * decide at all (database gone); a broker, reader or platform fault is `degraded`: doors with
 * working parts keep working.
 */
export function buildStatus(s: StatusInputs): GatewayStatus {
  const mqttConnected = s.relay?.connected() ?? false;
  const dbOpen = s.dbOpen ?? false;
  const readers = (s.readers ?? []).map((r) => {
    const st = r.status();
    const cfg = s.config.readers.find((c) => c.id === st.id);
    return { ...st, door: cfg?.door ?? '', lastReadAt: s.lastReads?.get(st.id) ?? null };
  });
  const up = s.upstream?.status() ?? null;
  const checks: GatewayStatus['checks'] = {
    database: { ok: dbOpen, detail: dbOpen ? 'open' : 'closed' },
    mqtt: { ok: mqttConnected, detail: mqttConnected ? 'connected' : 'disconnected: granted decisions cannot unlock' },
  };
  const backlog = s.auditBacklog;
  if (backlog) {
    checks.audit = backlog.queued === 0
      ? { ok: true, detail: 'written' }
      : { ok: false, detail: `${backlog.queued} rows waiting in memory: ${backlog.lastError ?? 'being written'}` };
  }
  checks.index = s.index ? { ok: true, detail: 'loaded' } : { ok: false, detail: 'not loaded' };
  const holds = new Map((s.holds ?? []).map((h) => [h.door, h]));
  const doorStates = new Map((s.relay?.doorStatus() ?? []).map((d) => [d.doorId, d]));
  for (const d of s.config.doors) checks[`door:${d.id}`] = doorCheck(doorStates.get(d.id), mqttConnected);
  for (const r of readers) checks[`reader:${r.id}`] = { ok: r.connected, detail: r.lastError ?? (r.connected ? 'connected' : 'waiting for device') };
  if (up) checks.upstream = { ok: up.state === 'ok', detail: up.lastError ?? up.state };
  for (const f of s.linkFileFaults ?? []) checks[`file:${f.field}`] = { ok: false, detail: f.problem };
  // A part's own checks never replace the ones the sections above make (`database` stays the store's).
  for (const [key, check] of Object.entries(s.checks ?? {})) checks[key] ??= check;
  const health = !dbOpen ? 'failing' : Object.values(checks).every((c) => c.ok) ? 'ok' : 'degraded';
  return {
    site: s.config.site.id,
    version: s.version,
    startedAt: s.startedAt,
    now: s.now,
    health,
    checks,
    index: s.index?.stats() ?? NO_INDEX,
    doors: s.config.doors.map((d) => {
      const st = doorStates.get(d.id);
      return {
        id: d.id,
        name: d.name ?? d.id,
        driver: d.driver,
        // How far lastAck can be trusted: by command id, or inferred from the relay turning on.
        acks: st?.reports.acks ?? null,
        online: st?.online ?? null,
        relay: st?.relay ?? 'unknown',
        contact: st?.contact ?? 'unknown',
        lastAck: st?.lastAck ? `${st.lastAck.result} at ${new Date(st.lastAck.at).toISOString()}` : null,
        ackLatencyMs: st?.lastAck?.latencyMs ?? null,
        hold: holdOf(holds.get(d.id)),
      };
    }),
    readers,
    // `embedded` is a keyword, not a URL: nothing in it to redact.
    mqtt: { connected: mqttConnected, url: s.config.mqtt.url === 'embedded' ? 'embedded' : redactUrl(s.config.mqtt.url) },
    upstream: up ? upstreamSummary(up) : null,
    locations: (s.locations?.() ?? []).map((l) => ({ id: l.id, name: l.name, connection: l.connection, onDisconnect: l.onDisconnect, upstream: l.upstream ? upstreamSummary(l.upstream) : null })),
    recent: s.recent?.list() ?? [],
    alarms: s.alarms ?? [],
  };
}
