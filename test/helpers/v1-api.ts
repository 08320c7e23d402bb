import { createHash, randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { createV1App } from '../../src/api/v1/app.js';
import type { BulkApply } from '../../src/api/v1/bulk-routes.js';
import { BulkRunner } from '../../src/api/v1/bulk-runner.js';
import { directWrites } from '../../src/api/v1/write-ops.js';
import { tokenAuth } from '../../src/api/v1/token-auth.js';
import type { AccessIndex } from '../../src/access/access-index.js';
import { createMemberQrIssuer } from '../../src/qr/issuer.js';
import { createToken } from '../../src/store/api-tokens.js';
import type { Db } from '../../src/store/db.js';
import type { Store } from '../../src/store/store.js';
import type { BookingConfig } from '../../src/upstream/booking-apply.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from './fake-clock.js';
import { testStore } from './store.js';

export interface V1Site {
  store: Store;
  index: AccessIndex;
  clock: FakeClock;
  app: Hono;
  tokens: { read: string; write: string; admin: string };
  /** What the bookings' policy is built from at each request (resource room-1, grace 30/30); a test may change it as a reload would. */
  bookingConfig: { resources: { id: string; graceBeforeMinutes?: number; graceAfterMinutes?: number }[]; access: BookingConfig['access'] };
  /** A request as a platform sends it: JSON body, bearer token (write unless named). */
  call: (method: string, path: string, opts?: { body?: unknown; token?: string; headers?: Record<string, string> }) => Promise<Response>;
  close: () => void;
}

/**
 * The v1 API as the gateway mounts it (under /api/v1, real token auth) over a real SQLite file
 * whose index follows every commit, with one token of each scope, doors front and lab, and the
 * booking resource room-1 on door front.
 */
export function v1Site(groups: readonly string[] = ['staff', 'lab']): V1Site {
  const { store, index, close } = testStore(['front', 'lab'], { 'room-1': ['front'] });
  const bookingConfig: V1Site['bookingConfig'] = { resources: [{ id: 'room-1' }], access: { graceBeforeMinutes: 30, graceAfterMinutes: 30 } };
  const clock = new FakeClock(Date.parse('2026-12-01T08:00:00Z'));
  const made = (scope: 'read' | 'write' | 'admin') => createToken(store, { scope, name: `t-${scope}` }, clock.now(), 'test').token;
  const tokens = { read: made('read'), write: made('write'), admin: made('admin') };
  // The bulk runs in a worker on its own connection to the same file, as the gateway runs it (needs `npm run build`).
  const bulks = new BulkRunner();
  const key = randomBytes(32);
  const bulk: BulkApply = (body, ndjson, actor) => bulks.run({ dbFile: store.db.name, key, body, ndjson, actor, now: clock.now(), knownGroups: [...groups] });
  const v1 = createV1App({ store, clock, logger: silentLogger, auth: tokenAuth({ store, operatorToken: undefined, clock }), knownGroups: () => new Set(groups), writes: directWrites(store), bookingConfig: () => bookingConfig, bulk, issueQr: createMemberQrIssuer({ db: store.db, key, ttlSeconds: 300, clock }) });
  const app = new Hono().route('/api/v1', v1);
  const call: V1Site['call'] = (method, path, opts = {}) =>
    Promise.resolve(
      app.request(path, {
        method,
        headers: { authorization: `Bearer ${opts.token ?? tokens.write}`, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
        ...(opts.body === undefined ? {} : { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }),
      }),
    );
  return { store, index, clock, app, tokens, bookingConfig, call, close };
}

/** A digest of every table's rows: equal before and after means the request changed nothing at all. */
export function tableHashes(db: Db): Record<string, string> {
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  return Object.fromEntries(tables.map((t) => [t, createHash('sha256').update(JSON.stringify(db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).raw().all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v))).digest('hex')]));
}
