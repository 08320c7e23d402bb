import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AlarmSource } from './doors/alarm-types.js';
import { alarmFamilies, readerFamilies, relayFamilies, upstreamFamilies, type ReaderStatusSource, type RelaySource, type UpstreamStatusSource } from './metrics-sources.js';
import { VERSION } from './version.js';

/**
 * From a badge read to a decision: microseconds for a card from the in-memory index, up to
 * seconds for a visitor code the booking platform answers; the top buckets are that wait.
 */
const DECISION_BUCKETS = [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1, 1, 5];

/** prom-client's default metrics that are gauges ending in _total (see collectProcessMetrics). */
const GAUGES_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface MetricsOptions {
  /**
   * prom-client's process and Node metrics (CPU, memory, file descriptors, GC, event-loop delay)
   * on this registry. Only the gateway asks for them: they watch the whole process (a GC
   * observer and an event-loop monitor each), which tests making many registries should not pay.
   */
  processMetrics?: boolean;
  version?: string;
}

/**
 * Prometheus metrics on a registry of our own (no global default registry: two gateways in
 * one test process must not share counters). Gauges read live state at scrape time, and so do
 * the families the parts report through watch*() (metrics-sources.ts).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly decisions = new Counter({
    name: 'lintel_decisions_total',
    help: 'Badge and QR decisions by result and reason',
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });
  readonly relayUnreachable = new Counter({
    name: 'lintel_relay_unreachable_total',
    help: 'Granted decisions whose unlock could not be sent because the broker was unreachable',
    registers: [this.registry],
  });

  /** Timers, listeners and background tasks that failed and were retried (src/util/guarded.ts). */
  readonly backgroundErrors = new Counter({
    name: 'lintel_background_errors_total',
    help: 'Background tasks, timers and listeners that failed (logged, counted and retried)',
    labelNames: ['task'] as const,
    registers: [this.registry],
  });

  /** Audit rows dropped because the in-memory queue behind a held write lock was full. */
  readonly auditDropped = new Counter({
    name: 'lintel_audit_rows_dropped_total',
    help: 'Audit rows dropped because the queue waiting for the SQLite write lock was full',
    registers: [this.registry],
  });

  /** Observed by DecisionRecorder.flushPending from the marks the pipeline took, never on the badge path. */
  readonly decisionLatency = new Histogram({
    name: 'lintel_decision_latency_seconds',
    help: 'Time from a badge or QR line read to its decision, by kind (card, member-qr, visitor-qr, garbage)',
    labelNames: ['kind'] as const,
    buckets: DECISION_BUCKETS,
    registers: [this.registry],
  });

  readonly swipeToPublish = new Histogram({
    name: 'lintel_swipe_to_publish_seconds',
    help: 'Time from a badge or QR line read to its unlock handed to the MQTT socket (granted and sent only)',
    buckets: DECISION_BUCKETS,
    registers: [this.registry],
  });

  private readonly relays = new Set<RelaySource>();
  private readonly readerLists = new Set<() => readonly ReaderStatusSource[]>();
  private readonly alarmSources = new Set<AlarmSource>();
  private readonly upstreamLinks = new Map<UpstreamStatusSource, string>();
  private readonly addRelay: (relay: RelaySource) => () => void;

  constructor(opts: MetricsOptions = {}) {
    new Gauge({
      name: 'lintel_build_info',
      help: 'Always 1: the gateway version and the Node.js version it runs on, as labels',
      labelNames: ['version', 'node'] as const,
      registers: [this.registry],
    }).set({ version: opts.version ?? VERSION, node: process.versions.node }, 1);
    this.addRelay = relayFamilies(this.registry, this.relays);
    readerFamilies(this.registry, this.readerLists);
    alarmFamilies(this.registry, this.alarmSources);
    upstreamFamilies(this.registry, this.upstreamLinks);
    if (opts.processMetrics) this.collectProcessMetrics();
  }

  private collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters, which promtool's lint refuses; each repeats the sum of its
    // by-type sibling (nodejs_active_handles{type}...), so nothing is lost without them.
    for (const name of GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(name);
  }

  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** Door online, missing acks and ack latency from this relay while it runs; the returned function stops watching it. */
  watchRelay(relay: RelaySource): () => void {
    return this.addRelay(relay);
  }

  /** Reader counters from `list()` at each scrape: a list function, so readers a reload replaced are read as they are now. */
  watchReaders(list: () => readonly ReaderStatusSource[]): () => void {
    this.readerLists.add(list);
    return () => void this.readerLists.delete(list);
  }

  /** Active door alarms by door and kind from `source` at each scrape (the door-alarms part passes its AlarmSource). */
  watchAlarms(source: AlarmSource): () => void {
    this.alarmSources.add(source);
    return () => void this.alarmSources.delete(source);
  }

  /** A booking platform link's state, callbacks by status and reconcile durations, labelled with its location. */
  watchUpstream(link: UpstreamStatusSource, location: string): () => void {
    this.upstreamLinks.set(link, location);
    return () => void this.upstreamLinks.delete(link);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
