import type { Operator } from '../../console/operator.js';
import type { Metrics } from '../../metrics.js';
import type { Clock, Timer } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';

/*
 * The fan-out behind /events. Each connected page is a client with a bounded queue: a message
 * is put on every queue at once and each stream drains its own at the speed of its socket. A
 * client whose queue is full is dropped (it reconnects and gets a fresh page of state), so a
 * slow phone on Wi-Fi can never make the gateway hold more than maxQueued messages for it.
 * What a client is sent depends on its role only (names for the signed-in, forms by role), so a
 * status tick renders once per role present, not once per client.
 */

export interface SseMessage {
  event: string;
  data: string;
}

export interface HubLimits {
  maxClients: number;
  /** Messages waiting for one client's socket before that client is dropped. */
  maxQueued: number;
  heartbeatMs: number;
  statusMs: number;
}

export const DEFAULT_HUB_LIMITS: HubLimits = { maxClients: 32, maxQueued: 64, heartbeatMs: 15_000, statusMs: 3_000 };

/** Who a rendering is for: anonymous, or a role. */
export type ViewerKey = 'anonymous' | Operator['role'];
export const viewerKey = (viewer: Operator | null): ViewerKey => viewer?.role ?? 'anonymous';

export class HubClient {
  private readonly queue: SseMessage[] = [];
  private wake: (() => void) | null = null;
  private isClosed = false;

  constructor(
    readonly viewer: Operator | null,
    private readonly maxQueued: number,
    private readonly onClose: (c: HubClient, why: 'slow' | 'left') => void,
  ) {}

  get key(): ViewerKey {
    return viewerKey(this.viewer);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  push(m: SseMessage): void {
    if (this.isClosed) return;
    if (this.queue.length >= this.maxQueued) return this.close('slow');
    this.queue.push(m);
    this.wakeUp();
  }

  /** The next message, or null once the client is closed (the stream then ends). */
  async next(): Promise<SseMessage | null> {
    while (!this.isClosed) {
      const m = this.queue.shift();
      if (m) return m;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return null;
  }

  close(why: 'slow' | 'left' = 'left'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.queue.length = 0;
    this.wakeUp();
    this.onClose(this, why);
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

export interface HubDeps {
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  limits: HubLimits;
  /** The live sections for one role, as `event: status` data (JSON of id → HTML). */
  renderStatus: (viewer: Operator | null) => Promise<string>;
}

export class ConsoleEventHub {
  private readonly clients = new Set<HubClient>();
  private timers: Timer[] = [];
  private soon: Timer | null = null;
  private ticking = false;
  dropped = 0;

  constructor(private readonly deps: HubDeps) {}

  get size(): number {
    return this.clients.size;
  }

  /** The sections for one viewer now (a new stream's first message). */
  renderFor(viewer: Operator | null): Promise<string> {
    return this.deps.renderStatus(viewer);
  }

  /** Null when the cap is reached: the route answers 503 and the page falls back to its refresh. */
  join(viewer: Operator | null): HubClient | null {
    if (this.clients.size >= this.deps.limits.maxClients) return null;
    const client = new HubClient(viewer, this.deps.limits.maxQueued, (c, why) => {
      this.clients.delete(c);
      if (why === 'slow') {
        this.dropped++;
        this.deps.logger.warn({ viewer: c.viewer?.name ?? null }, 'console live client dropped: it did not keep up');
      }
    });
    this.clients.add(client);
    if (this.timers.length === 0) this.startTimers();
    return client;
  }

  /** One message per client, rendered once per role present (`render` null: that role is sent nothing). */
  broadcast(event: string, render: (viewer: Operator | null) => string | null): void {
    const byKey = new Map<ViewerKey, string | null>();
    for (const c of [...this.clients]) {
      if (!byKey.has(c.key)) byKey.set(c.key, this.guard('render', () => render(c.viewer), null));
      const data = byKey.get(c.key);
      if (data !== null && data !== undefined) c.push({ event, data });
    }
  }

  /** Something shown changed (a door's state, an alarm): push the sections within a moment, once for a burst. */
  changed(): void {
    if (this.clients.size === 0 || this.soon) return;
    this.soon = this.deps.clock.setTimeout(() => {
      this.soon = null;
      void this.tick();
    }, 200);
  }

  /** Sends the sections to every client now (each role rendered once). */
  async tick(): Promise<void> {
    if (this.ticking || this.clients.size === 0) return;
    this.ticking = true;
    try {
      const byKey = new Map<ViewerKey, string>();
      for (const c of [...this.clients]) {
        if (!byKey.has(c.key)) byKey.set(c.key, await this.deps.renderStatus(c.viewer));
        c.push({ event: 'status', data: byKey.get(c.key)! });
      }
    } catch (err) {
      this.failed('status', err);
    } finally {
      this.ticking = false;
    }
  }

  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.soon?.cancel();
    this.soon = null;
    for (const c of [...this.clients]) c.close();
  }

  private startTimers(): void {
    const { clock, limits } = this.deps;
    this.timers = [
      clock.setInterval(() => this.guard('heartbeat', () => this.broadcast('heartbeat', () => String(clock.now())), undefined), limits.heartbeatMs),
      clock.setInterval(() => void this.tick(), limits.statusMs),
    ];
  }

  private guard<T>(task: string, fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (err) {
      this.failed(task, err);
      return fallback;
    }
  }

  private failed(task: string, err: unknown): void {
    this.deps.metrics.backgroundErrors.inc({ task: `console-${task}` });
    this.deps.logger.error({ err: errorMessage(err) }, `console live ${task} failed`);
  }
}
