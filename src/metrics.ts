import { Counter, Gauge, Registry } from 'prom-client';

/**
 * Prometheus metrics on a registry of our own (no global default registry: two gateways in
 * one test process must not share counters). Gauges read live state at scrape time.
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

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
