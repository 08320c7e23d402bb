import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamSimulator } from '../../src/simulator/upstream-simulator.js';
import { systemClock } from '../../src/util/clock.js';
import { freePort, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { GatewayProcess, getJson, waitFor } from '../helpers/gateway-process.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * SIGHUP to the built `lintel run` (what `systemctl reload` sends) connects and disconnects a
 * location (issue 12): the annex's link thread ends and starts, its platform subscription is
 * deleted and made anew, and a storm of reloads leaves the process with the OS threads it had.
 */

type Annex = 'connected' | 'disconnected';
interface LocationRow {
  id: string;
  connection: string;
  upstream: { state: string } | null;
}

describe('lintel run: a location connected and disconnected by SIGHUP', () => {
  let dir: string;
  let cleanup: () => void;
  let broker: TestBroker;
  let hq: UpstreamSimulator;
  let annex: UpstreamSimulator;
  let gw: GatewayProcess;
  let port: number;
  let config: string;

  const platform = async (resourceId: string, token: string) => {
    const sim = new UpstreamSimulator({ clock: systemClock, tokens: [token] });
    await sim.start();
    sim.addResource({ resourceId, timeZone: 'Europe/Amsterdam' });
    return sim;
  };
  /** `marker`: a grace on R-HQ, so the reload that read this very file can be told in the log. */
  const yaml = (state: Annex, marker = false) =>
    [
      'site: { id: acme }',
      `dataDir: ${join(dir, 'data')}`,
      `http: { host: 127.0.0.1, port: ${port} }`,
      `mqtt: { url: "${broker.url}", protocolVersion: ${broker.protocolVersions.includes(5) ? 5 : 4} }`,
      'doors: [{ id: front, location: hq }, { id: side, location: annex }]',
      `resources: [{ id: R-HQ, doors: [front], location: hq${marker ? ', graceAfterMinutes: 5' : ''} }, { id: R-AX, doors: [side], location: annex }]`,
      'locations:',
      `  - { id: hq, upstream: { baseUrl: "${hq.baseUrl}", callbackUrl: "http://127.0.0.1:${port}/webhooks/offision/hq", token: tok-hq, requestTimeoutMs: 2000 } }`,
      `  - { id: annex, connection: ${state}, onDisconnect: revoke, upstream: { baseUrl: "${annex.baseUrl}", callbackUrl: "http://127.0.0.1:${port}/webhooks/offision/annex", token: tok-ax, requestTimeoutMs: 2000 } }`,
      '',
    ].join('\n');
  const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${gw.child.pid}/status`, 'utf8'))![1]);
  const annexRow = async () => (await getJson<{ locations: LocationRow[] }>(port, '/api/status')).locations.find((l) => l.id === 'annex')!;
  async function reload(state: Annex, marker = false) {
    writeFileSync(config, yaml(state, marker));
    const from = gw.lines.length;
    gw.signal('SIGHUP');
    return gw.waitLog('configuration reloaded', { from, ...(marker ? { match: (l) => (l.applied as string[]).includes('resources.R-HQ.graceAfterMinutes'), ms: 30_000 } : {}) });
  }

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    broker = await startTestBroker();
    [hq, annex] = [await platform('R-HQ', 'tok-hq'), await platform('R-AX', 'tok-ax')];
    port = await freePort();
    config = join(dir, 'lintel.yaml');
    writeFileSync(config, yaml('connected'));
    gw = new GatewayProcess(config);
    await gw.started();
    await waitFor('both subscribed', () => (hq.liveSubscriptions().length === 1 && annex.liveSubscriptions().length === 1 ? true : undefined));
  }, 30_000);

  afterAll(async () => {
    await gw?.stop();
    await hq?.stop();
    await annex?.stop();
    await broker?.stop();
    cleanup?.();
  });

  it('ends and starts the location link, deletes and makes its platform subscription, and leaks no thread in a storm', async () => {
    const first = annex.liveSubscriptions()[0]!;
    const off = await reload('disconnected');
    expect(off).toMatchObject({ applied: ['locations.annex.connection'], restartNeeded: [], disconnect: ['annex'], revoke: ['annex'] });
    expect(annex.liveSubscriptions()).toEqual([]);
    expect(annex.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/').pop())).toEqual([first.subscriptionId]);
    expect(await annexRow()).toMatchObject({ connection: 'disconnected', upstream: null });
    const res = await fetch(first.callUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);

    const on = await reload('connected');
    expect(on).toMatchObject({ applied: ['locations.annex.connection'], connect: ['annex'] });
    await waitFor('annex subscribed again', () => (annex.liveSubscriptions().length === 1 ? true : undefined));
    await waitFor('annex link ok', async () => ((await annexRow()).upstream?.state === 'ok' ? true : undefined));
    // The baseline once a link has ended and started once: lazily made pools are all there by now.
    const baseline = threads();

    for (let i = 0; i < 20; i++) {
      writeFileSync(config, yaml(i % 2 === 0 ? 'disconnected' : 'connected'));
      gw.signal('SIGHUP');
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
    }
    // The storm's reloads run one at a time and collapse; this one read the final file.
    const last = await reload('connected', true);
    expect(last.restartNeeded).toEqual([]);
    expect(gw.alive).toBe(true);
    expect(await annexRow()).toMatchObject({ connection: 'connected' });
    await waitFor('annex subscribed after the storm', () => (annex.liveSubscriptions().length === 1 ? true : undefined));
    await waitFor('the threads back to the baseline', () => (threads() <= baseline ? true : undefined));
    expect(hq.liveSubscriptions()).toHaveLength(1);

    await reload('disconnected');
    await waitFor('one thread fewer', () => (threads() < baseline ? true : undefined));
    expect(annex.liveSubscriptions()).toEqual([]);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).not.toMatch(/lintel_reloads_total\{result="rejected"\} [1-9]/);
  }, 90_000);
});
