import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { Gateway } from '../../src/gateway.js';
import { UpstreamSimulator } from '../../src/simulator/upstream-simulator.js';
import { signWebhook } from '../../src/upstream/signature.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { freePort, startTestBroker } from './broker.js';
import { until } from './lintel-process.js';
import { tempDir } from './tmp.js';
import { tableHashes } from './v1-api.js';

/*
 * Two locations on one gateway (issue 12): `hq` and `annex`, each against its own instance of the
 * platform simulator, over real loopback HTTP, a real broker and a real SQLite file kept across
 * restarts. The locations tests (start-time and reload) share it. The upstream threads run the
 * build: `npm run build` first.
 */

export const OPERATOR_TOKEN = 'operator-token-for-the-locations-test';
const readers = [
  { id: 'front-desk', kind: 'stdin', door: 'front' },
  { id: 'side-desk', kind: 'stdin', door: 'side' },
] as const;

/** The annex's live settings; `token` its platform token (default tok-ax). */
export type AnnexState = { connection: 'connected' | 'disconnected'; onDisconnect?: 'keep' | 'revoke'; token?: string };
type Cleanups = Array<() => Promise<void> | void>;

export async function locationsWorld(cleanups: Cleanups) {
  async function platform(resourceId: string, token: string): Promise<UpstreamSimulator> {
    const sim = new UpstreamSimulator({ clock: systemClock, tokens: [token] });
    await sim.start();
    sim.addResource({ resourceId, timeZone: 'Europe/Amsterdam' });
    cleanups.push(() => sim.stop());
    return sim;
  }
  const broker = await startTestBroker();
  cleanups.push(() => broker.stop());
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const [hq, annex] = [await platform('R-HQ', 'tok-hq'), await platform('R-AX', 'tok-ax')];
  const port = await freePort();
  const protocolVersion = broker.protocolVersions.includes(5) ? 5 : 4;
  /** The site file as written: JSON is YAML, so reloadFile reads it as `lintel run` would. */
  const docFor = ({ token, ...annexState }: AnnexState) => ({
    site: { id: 'acme' },
    dataDir: join(dir, 'data'),
    http: { host: '127.0.0.1', port, authToken: OPERATOR_TOKEN },
    mqtt: { url: broker.url, protocolVersion },
    doors: [
      { id: 'front', location: 'hq' },
      { id: 'side', location: 'annex' },
    ],
    readers,
    resources: [
      { id: 'R-HQ', doors: ['front'], location: 'hq' },
      { id: 'R-AX', doors: ['side'], location: 'annex' },
    ],
    zones: { annex: { doors: ['side'] } },
    accessGroups: { 'annex-members': { zones: [{ zone: 'annex' }] } },
    locations: [
      { id: 'hq', upstream: { baseUrl: hq.baseUrl, callbackUrl: `http://127.0.0.1:${port}/webhooks/offision/hq`, token: 'tok-hq', requestTimeoutMs: 2000 } },
      {
        id: 'annex',
        upstream: { baseUrl: annex.baseUrl, callbackUrl: `http://127.0.0.1:${port}/webhooks/offision/annex`, token: token ?? 'tok-ax', requestTimeoutMs: 2000 },
        ...annexState,
      },
    ],
  });
  const configFor = (annexState: AnnexState): Config => parseConfig(docFor(annexState));
  const siteFile = join(dir, 'site.yaml');
  /** Writes the site file for a later reloadFile (SIGHUP's path). */
  const writeSite = (annexState: AnnexState) => writeFileSync(siteFile, JSON.stringify(docFor(annexState)));
  let gateway: Gateway | null = null;
  const start = async (cfg: Config, logger: Logger = silentLogger) => {
    gateway = new Gateway({ config: cfg, logger, stdin: () => new PassThrough() });
    await gateway.start();
    return gateway;
  };
  const stop = async () => {
    await gateway?.stop();
    gateway = null;
  };
  cleanups.push(stop);
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const swipe = async (readerId: string, card: string) => {
    const g = gateway!;
    const reader = g.config.readers.find((r) => r.id === readerId)!;
    const before = g.recent.list().length;
    g.pipeline.onLine(reader, card);
    await until('decision', () => g.recent.list().length > before);
    return g.recent.list()[0]!.reason;
  };
  const dbFile = join(dir, 'data', 'lintel.db');
  const db = () => new Database(dbFile, { readonly: true });
  /** The tables' hashes, of the tables named only: the headquarters' link keeps writing its own state meanwhile. */
  const hashes = (...tables: string[]) => {
    const d = db();
    try {
      const all = tableHashes(d);
      return Object.fromEntries(tables.map((t) => [t, all[t]]));
    } finally {
      d.close();
    }
  };
  const query = <T>(sql: string, ...args: unknown[]) => {
    const d = db();
    try {
      return d.prepare(sql).all(...args) as T[];
    } finally {
      d.close();
    }
  };
  const subscribed = (sim: UpstreamSimulator) => until('subscribed', () => sim.liveSubscriptions().length > 0, 15_000);
  const book = (sim: UpstreamSimulator, resourceId: string, email: string, id: string) => {
    const now = Date.now();
    sim.createAppointment({ appointmentId: id, resourceId, start: now - 10 * 60_000, end: now + 2 * 3_600_000, organizer: { email } });
  };
  /** A callback as the platform signs it, for `sub`, posted to `path` (its own callUrl when omitted). */
  const callback = (sub: { subscriptionId: string; secret: string; callUrl: string }, resourceId: string, webhookId: string, path?: string) => {
    const body = JSON.stringify({ subscriptionId: sub.subscriptionId, type: 'appointment.created', resourceId, appointmentId: `A-${webhookId}`, dates: [new Date().toISOString().slice(0, 10)], occurredAt: new Date().toISOString() });
    const ts = Math.floor(Date.now() / 1000);
    return fetch(path === undefined ? sub.callUrl : `http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': webhookId, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(sub.secret, webhookId, ts, body) },
      body,
    });
  };
  return { hq, annex, port, dbFile, configFor, writeSite, siteFile, start, stop, call, swipe, hashes, query, subscribed, book, callback, gateway: () => gateway! };
}
