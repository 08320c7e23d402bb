import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AlarmSource } from './doors/alarm-types.js';
import type { DoorRelay } from './doors/door-relay.js';
import type { ReaderSource } from './readers/reader.js';
import { doorCheck } from './status-builder.js';
import type { UpstreamState } from './upstream/health.js';
import type { UpstreamLink } from './upstream/upstream-link.js';

/*
 * The families read from the gateway's parts at scrape time (Metrics.watch*): each part keeps
 * its own counters, as it did for the status page, and a scrape copies them. Nothing here runs
 * on the badge path, and a part that is gone (a reader removed by a reload) simply drops out.
 * Each family is made once per registry; a second part of a kind (two reader parts) adds its
 * sources to the same family.
 */

/** Ack waits reach the timeout (5 s by default); a healthy door answers in milliseconds. */
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** A sweep is yesterday, today and tomorrow for each resource: seconds, a minute on a slow platform. */
const RECONCILE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const UPSTREAM_STATES: readonly UpstreamState[] = ['ok', 'degraded', 'unauthorized', 'unreachable', 'disabled'];

export type RelaySource = Pick<DoorRelay, 'connected' | 'doorStatus' | 'onAck' | 'stats'>;
export type ReaderStatusSource = Pick<ReaderSource, 'status'>;
export type UpstreamStatusSource = Pick<UpstreamLink, 'status'>;

/** Door online and healthy per door and the relay's missing acks from `relays`; ack latency is observed on each ack as it arrives. */
export function relayFamilies(registry: Registry, relays: Set<RelaySource>): (relay: RelaySource) => () => void {
  const ackLatency = new Histogram({
    name: 'lintel_door_ack_latency_seconds',
    help: 'Time from publishing an unlock to the door controller acknowledging it, per door (late acks are not observed)',
    labelNames: ['door'] as const,
    buckets: ACK_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'lintel_door_online',
    help: '1 when the door controller reports itself online and the broker is connected, else 0 (offline, never heard from, or unknown)',
    labelNames: ['door'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const relay of relays) for (const d of relay.doorStatus()) this.set({ door: d.doorId }, d.online === true ? 1 : 0);
    },
  });
  new Gauge({
    name: 'lintel_door_healthy',
    help: '1 when the door passes its health check (controller online, latest unlock acknowledged), else 0; see /health door:<id>',
    labelNames: ['door'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const relay of relays) {
        const connected = relay.connected();
        for (const d of relay.doorStatus()) this.set({ door: d.doorId }, doorCheck(d, connected).ok ? 1 : 0);
      }
    },
  });
  new Counter({
    name: 'lintel_door_acks_missing_total',
    help: 'Unlocks whose ack did not arrive within the ack timeout',
    registers: [registry],
    collect() {
      this.reset();
      for (const relay of relays) this.inc(relay.stats().missingAcks);
    },
  });
  return (relay) => {
    relays.add(relay);
    const off = relay.onAck((e) => {
      if (e.latencyMs !== null) ackLatency.observe({ door: e.doorId }, e.latencyMs / 1000);
    });
    return () => {
      off();
      relays.delete(relay);
    };
  };
}

/** Lines, drops and device errors per reader, from each reader's own counters. */
export function readerFamilies(registry: Registry, readers: Set<() => readonly ReaderStatusSource[]>): void {
  const each = (fn: (s: ReturnType<ReaderStatusSource['status']>) => void) => {
    for (const list of readers) for (const r of list()) fn(r.status());
  };
  new Gauge({
    name: 'lintel_reader_connected',
    help: '1 while the reader device is open and being read',
    labelNames: ['reader'] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((s) => this.set({ reader: s.id }, s.connected ? 1 : 0));
    },
  });
  new Counter({
    name: 'lintel_reader_lines_total',
    help: 'Lines a reader delivered to the decision pipeline',
    labelNames: ['reader'] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((s) => this.inc({ reader: s.id }, s.lines));
    },
  });
  new Counter({
    name: 'lintel_reader_dropped_lines_total',
    help: 'Lines a reader dropped before any decision, by why (overlong: past maxLineLength; garbage: not printable)',
    labelNames: ['reader', 'why'] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((s) => {
        this.inc({ reader: s.id, why: 'overlong' }, s.dropped.overlong);
        this.inc({ reader: s.id, why: 'garbage' }, s.dropped.garbage);
      });
    },
  });
  new Counter({
    name: 'lintel_reader_errors_total',
    help: 'Times a reader device was lost or failed to open (each is opened again after a backoff)',
    labelNames: ['reader'] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((s) => this.inc({ reader: s.id }, s.reconnects));
    },
  });
}

/**
 * Door alarms now raised and not both acknowledged and cleared, by door and kind. A series once
 * seen stays, at 0, after its alarms leave: a disappearing series reads as "no data", not "no alarm".
 */
export function alarmFamilies(registry: Registry, sources: Set<AlarmSource>): void {
  const seen = new Set<string>();
  new Gauge({
    name: 'lintel_door_alarms',
    help: 'Door alarms active now (raised, and not yet both acknowledged and cleared), by door and kind',
    labelNames: ['door', 'kind'] as const,
    registers: [registry],
    collect() {
      const counts = new Map<string, { door: string; kind: string; n: number }>();
      for (const source of sources) {
        for (const a of source.active()) {
          const key = `${a.door}\u0000${a.kind}`;
          const c = counts.get(key) ?? { door: a.door, kind: a.kind, n: 0 };
          c.n += 1;
          counts.set(key, c);
          seen.add(key);
        }
      }
      this.reset();
      for (const key of seen) {
        const [door = '', kind = ''] = key.split('\u0000');
        this.set({ door, kind }, counts.get(key)?.n ?? 0);
      }
    },
  });
}

/**
 * The booking platform links, one per linked location (config/locations.ts), each sample
 * labelled with its `location`: its state, the callbacks it answered by HTTP status, and one
 * reconcile-duration sample for each sweep seen at a scrape (a link reports its last sweep;
 * sweeps run minutes apart, scrapes seconds, so none is missed at any sensible scrape interval).
 */
export function upstreamFamilies(registry: Registry, links: Map<UpstreamStatusSource, string>): void {
  new Gauge({
    name: 'lintel_upstream_state',
    help: 'The booking platform link state, per location: 1 for the current state, 0 for the others',
    labelNames: ['location', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [link, location] of links) {
        const current = link.status().state;
        for (const state of UPSTREAM_STATES) this.set({ location, state }, state === current ? 1 : 0);
      }
    },
  });
  new Counter({
    name: 'lintel_platform_callbacks_total',
    help: 'Booking platform callbacks answered, per location, by HTTP status and outcome (accepted, duplicate, refused)',
    labelNames: ['location', 'status', 'outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [link, location] of links) {
        const { accepted, duplicates, rejected } = link.status().callbacks;
        this.inc({ location, status: '200', outcome: 'accepted' }, accepted);
        this.inc({ location, status: '200', outcome: 'duplicate' }, duplicates);
        for (const [status, n] of Object.entries(rejected)) this.inc({ location, status, outcome: 'refused' }, n);
      }
    },
  });
  const lastSeen = new Map<UpstreamStatusSource, number>();
  new Histogram({
    name: 'lintel_reconcile_duration_seconds',
    help: 'Duration of a reconciliation sweep against the booking platform, per location',
    labelNames: ['location'] as const,
    buckets: RECONCILE_BUCKETS,
    registers: [registry],
    collect() {
      for (const [link, location] of links) {
        const report = link.status().lastReconcile;
        if (!report || lastSeen.get(link) === report.at) continue;
        lastSeen.set(link, report.at);
        this.observe({ location }, report.durationMs / 1000);
      }
    },
  });
}
