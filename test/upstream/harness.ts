import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AccessIndex } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import type { ResourceConfig, UpstreamConfig } from '../../src/config/schema.js';
import { UpstreamSimulator } from '../../src/simulator/upstream-simulator.js';
import { openDatabase } from '../../src/store/db.js';
import { syncDoorsAndResources } from '../../src/store/doors.js';
import { loadIndex, refreshDoors, refreshPeople } from '../../src/store/index-loader.js';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import { Store } from '../../src/store/store.js';
import { UpstreamSync } from '../../src/upstream/upstream-sync.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';

export const TOKEN = 'tok-live-1';
export const DOORS = ['door-orion', 'door-lyra', 'door-lobby'];

export interface HarnessOptions {
  resources?: ResourceConfig[];
  grace?: { beforeMin: number; afterMin: number };
  upstream?: Partial<UpstreamConfig>;
  zones?: Record<string, string>;
  token?: string;
  start?: boolean;
  /** Mapped resources the simulated platform does not have. */
  notAtPlatform?: string[];
  /** The gateway's fetch (default: global fetch). */
  fetch?: typeof fetch;
  /** Lifetime the simulated platform grants a subscription (default: the spec's 7 days). */
  subscriptionTtlMs?: number;
  /** The gateway's logger (default: silent). */
  logger?: Logger;
}

/**
 * Everything the gateway wires for the booking link, for real: a SQLite file in a temp dir, the
 * access index fed by Store.onCommit, the simulator over loopback HTTP, and the webhook app on its
 * own loopback server. Only time is fake.
 */
export class Harness {
  readonly clock = new FakeClock();
  readonly sim: UpstreamSimulator;
  readonly index = new AccessIndex();
  store!: Store;
  sync!: UpstreamSync;
  dbFile = '';
  callbackUrl = '';
  private tmp = tempDir('lintel-upstream-');
  private webhookServer: ServerType | null = null;
  private app: Hono | null = null;

  constructor(readonly opts: HarnessOptions = {}) {
    this.sim = new UpstreamSimulator({ clock: this.clock, tokens: [TOKEN], subscriptionTtlMs: opts.subscriptionTtlMs });
  }

  get resources(): ResourceConfig[] {
    return this.opts.resources ?? [
      { id: 'R-101', doors: ['door-orion'] },
      { id: 'R-102', doors: ['door-lyra', 'door-lobby'] },
    ];
  }

  async init(): Promise<this> {
    await this.sim.start();
    const zones = this.opts.zones ?? {};
    for (const r of this.resources) if (!this.opts.notAtPlatform?.includes(r.id)) this.sim.addResource({ resourceId: r.id, timeZone: zones[r.id] ?? 'Europe/Amsterdam' });
    this.dbFile = join(this.tmp.dir, 'lintel.db');
    this.store = new Store(openDatabase(this.dbFile));
    this.store.onCommit((change) => {
      if (change.doors) refreshDoors(this.store.db, this.index);
      if (change.people.size > 0) refreshPeople(this.store.db, this.index, change.people);
    });
    this.syncMapping(this.resources);
    loadIndex(this.store.db, this.index);
    await new Promise<void>((resolve) => {
      this.webhookServer = serve(
        { fetch: (req) => (this.app ? this.app.fetch(req) : new Response('not ready', { status: 503 })), hostname: '127.0.0.1', port: 0 },
        (info: AddressInfo) => {
          this.callbackUrl = `http://127.0.0.1:${info.port}/webhooks/offision`;
          resolve();
        },
      );
    });
    this.sync = this.makeSync();
    this.mountWebhook();
    if (this.opts.start !== false) {
      await this.sync.start();
      await this.settle();
    }
    return this;
  }

  /** Mounted the way the composition root does it (src/http/app.ts). */
  mountWebhook(): void {
    const app = new Hono();
    app.route('/webhooks/offision', this.sync.webhookApp());
    this.app = app;
  }

  makeSync(): UpstreamSync {
    return new UpstreamSync({
      config: {
        baseUrl: this.sim.baseUrl,
        callbackUrl: this.callbackUrl,
        reconcileIntervalSec: 300,
        requestTimeoutMs: 2000,
        renewBeforeSec: 86_400,
        maxCallbackBytes: 16_384,
        ...this.opts.upstream,
      },
      grace: this.opts.grace ?? { beforeMin: 30, afterMin: 30 },
      resources: this.resources,
      store: this.store,
      clock: this.clock,
      logger: this.opts.logger ?? silentLogger,
      token: this.opts.token ?? TOKEN,
      fetch: this.opts.fetch,
    });
  }

  syncMapping(resources: ResourceConfig[]): string[] {
    return this.store.transact((tx) =>
      syncDoorsAndResources(tx, DOORS.map((id) => ({ id, name: id })), new Map(resources.map((r) => [r.id, r.doors]))),
    );
  }

  /** Lets every callback, follow-up fetch and sweep finish (nothing here waits on real time). */
  async settle(): Promise<void> {
    for (let i = 0; i < 4; i++) {
      await this.sim.delivery.idle();
      await new Promise((r) => setImmediate(r));
      await this.sync.idle();
    }
  }

  /** Moves the fake clock and lets the work it triggered finish. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.settle();
  }

  giveCard(email: string, card: string): void {
    this.store.transact((tx) => assignCredential(tx, upsertPerson(tx, email, null, this.clock.now()), card, 'decimal', 'active', this.clock.now()));
  }

  decide(card: string, door: string, at: number | string): 'granted' | 'denied' {
    return decideCard(this.index, card, door, typeof at === 'string' ? Date.parse(at) : at).result;
  }

  /** The database file's hash after a checkpoint: equal hashes mean not one byte changed. */
  dbHash(): string {
    this.store.db.pragma('wal_checkpoint(TRUNCATE)');
    return createHash('sha256').update(readFileSync(this.dbFile)).digest('hex');
  }

  grantCount(source = 'booking'): number {
    return (this.store.db.prepare('SELECT COUNT(*) AS n FROM grants WHERE source = ?').get(source) as { n: number }).n;
  }

  async close(): Promise<void> {
    await this.sync?.stop();
    await this.sim.stop();
    const s = this.webhookServer;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    this.store?.close();
    this.tmp.cleanup();
  }
}

export const at = (iso: string): number => Date.parse(iso);
