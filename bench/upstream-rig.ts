import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessIndex } from '../src/access/access-index.js';
import type { ResourceConfig } from '../src/config/schema.js';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator.js';
import { openDatabase } from '../src/store/db.js';
import { syncDoorsAndResources } from '../src/store/doors.js';
import { loadIndex, refreshDoors, refreshPeople } from '../src/store/index-loader.js';
import { Store } from '../src/store/store.js';
import { UpstreamSync } from '../src/upstream/upstream-sync.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';

/**
 * The benches' wiring, as the gateway does it: SQLite file, index fed by onCommit, the
 * simulator and the webhook endpoint on loopback, real clock.
 */
export interface Rig {
  /** The in-process simulator; null when the bench runs the platform as its own process. */
  sim: UpstreamSimulator | null;
  store: Store;
  index: AccessIndex;
  sync: UpstreamSync;
  resources: ResourceConfig[];
  close(): Promise<void>;
}

export async function startRig(resourceCount: number, externalBaseUrl?: string): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'lintel-bench-'));
  const sim = externalBaseUrl ? null : new UpstreamSimulator({ clock: systemClock, tokens: ['bench-token'] });
  await sim?.start();
  const resources: ResourceConfig[] = Array.from({ length: resourceCount }, (_, i) => ({ id: `R-${i}`, doors: [`door-${i % 50}`] }));
  for (const r of resources) sim?.addResource({ resourceId: r.id, timeZone: 'Europe/Amsterdam' });
  const store = new Store(openDatabase(join(dir, 'lintel.db')));
  const index = new AccessIndex();
  store.onCommit((change) => {
    if (change.doors) refreshDoors(store.db, index);
    if (change.people.size > 0) refreshPeople(store.db, index, change.people);
  });
  store.transact((tx) =>
    syncDoorsAndResources(tx, Array.from({ length: 50 }, (_, i) => ({ id: `door-${i}`, name: `Door ${i}` })), new Map(resources.map((r) => [r.id, r.doors]))),
  );
  loadIndex(store.db, index);
  let app: Hono | null = null;
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
    const server = serve(
      { fetch: (req) => (app ? app.fetch(req) : new Response(null, { status: 503 })), hostname: '127.0.0.1', port: 0 },
      (info: AddressInfo) => resolve({ server, port: info.port }),
    );
  });
  const sync = new UpstreamSync({
    config: {
      baseUrl: externalBaseUrl ?? sim!.baseUrl,
      callbackUrl: `http://127.0.0.1:${port}/webhooks/offision`,
      reconcileIntervalSec: 86_400,
      requestTimeoutMs: 10_000,
      renewBeforeSec: 86_400,
      maxCallbackBytes: 16_384,
    },
    grace: { beforeMin: 30, afterMin: 30 },
    resources,
    store,
    clock: systemClock,
    logger: silentLogger,
    token: 'bench-token',
  });
  const root = new Hono();
  root.route('/webhooks/offision', sync.webhookApp());
  app = root;
  return {
    sim,
    store,
    index,
    sync,
    resources,
    async close() {
      await sync.stop();
      await sim?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
