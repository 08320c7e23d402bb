import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Metrics } from '../../src/metrics.js';
import type { Part, PartContext, PartRoutes } from '../../src/parts/part.js';
import { PartRunner } from '../../src/parts/part-runner.js';
import type { StatusPart } from '../../src/status-builder.js';
import { systemClock } from '../../src/util/clock.js';
import { createLogger } from '../../src/util/log.js';

/* The order the gateway relies on: start in list order, stop in reverse, whatever a part does. */

interface LogLine {
  msg: string;
  part?: string;
  err?: string;
}

function recorder() {
  const events: string[] = [];
  const lines: LogLine[] = [];
  const logger = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const config = parseConfig({ site: { id: 'runner' }, doors: [{ id: 'front' }] });
  const shared = { config: () => config, logger, clock: systemClock, metrics: new Metrics(), stopping: () => false };
  return { events, lines, shared };
}

/** A part that says what happened to it; `behaviour` picks how its start or stop goes wrong. */
function part(
  name: string,
  events: string[],
  behaviour: { startThrows?: boolean; stopThrows?: boolean; stopHangs?: boolean; status?: () => StatusPart; routes?: PartRoutes } = {},
): Part {
  return {
    name,
    stopBoundMs: 50,
    start() {
      events.push(`start ${name}`);
      if (behaviour.startThrows) throw new Error(`${name} cannot start`);
    },
    stop() {
      events.push(`stop ${name}`);
      if (behaviour.stopThrows) throw new Error(`${name} cannot stop`);
      if (behaviour.stopHangs) return new Promise<void>(() => undefined);
    },
    ...(behaviour.status ? { status: behaviour.status } : {}),
    ...(behaviour.routes ? { routes: () => behaviour.routes! } : {}),
    reloaded: (change) => void events.push(`reloaded ${name} ${change.config.site.id}`),
  };
}

describe('PartRunner', () => {
  it('starts in list order and stops in reverse, once', async () => {
    const { events, shared } = recorder();
    const runner = new PartRunner([part('a', events), part('b', events), part('c', events)], shared);
    await runner.startAll();
    await runner.stopAll();
    await runner.stopAll();
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('a start that throws stops what started, the failing part too, and rethrows its own error', async () => {
    const { events, lines, shared } = recorder();
    const runner = new PartRunner([part('a', events), part('b', events, { startThrows: true }), part('c', events)], shared);
    await expect(runner.startAll()).rejects.toThrow('b cannot start');
    expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
    expect(lines).toContainEqual(expect.objectContaining({ part: 'b', err: 'b cannot start', msg: 'part failed to start; stopping the parts that started' }));
  });

  it('a stop while a part is starting: no later part starts, and start() says why', async () => {
    const { events, shared } = recorder();
    let release = () => undefined as void;
    const slow: Part = { ...part('relay', events), start: () => new Promise<void>((r) => (release = r)) };
    const runner = new PartRunner([part('store', events), slow, part('readers', events)], shared);
    const starting = runner.startAll();
    await new Promise((r) => setTimeout(r, 10));
    await runner.stopAll();
    release();
    await expect(starting).rejects.toThrow('stopped while starting, before the readers part');
    expect(events).toEqual(['start store', 'stop relay', 'stop store']);
  });

  it('a stop that hangs or throws is logged and skipped; the parts before it still stop', async () => {
    const { events, lines, shared } = recorder();
    const runner = new PartRunner([part('store', events), part('relay', events, { stopThrows: true }), part('readers', events, { stopHangs: true })], shared);
    await runner.startAll();
    const began = Date.now();
    await runner.stopAll();
    expect(Date.now() - began).toBeLessThan(1000);
    expect(events.slice(3)).toEqual(['stop readers', 'stop relay', 'stop store']);
    expect(lines).toContainEqual(expect.objectContaining({ part: 'readers', msg: 'stop timed out; going on without it' }));
    expect(lines).toContainEqual(expect.objectContaining({ part: 'relay', err: 'relay cannot stop', msg: 'stop failed; going on without it' }));
  });

  it('status comes from running parts, in order; a status that throws is a failing check', async () => {
    const { events, shared } = recorder();
    const runner = new PartRunner(
      [
        part('a', events, { status: () => ({ checks: { 'a:x': { ok: true, detail: 'fine' } } }) }),
        part('b', events, { status: () => { throw new Error('no state'); } }),
        part('c', events),
      ],
      shared,
    );
    expect(runner.status()).toEqual([]);
    await runner.startAll();
    expect(runner.status()).toEqual([
      { checks: { 'a:x': { ok: true, detail: 'fine' } } },
      { checks: { 'part:b': { ok: false, detail: 'status failed: no state' } } },
    ]);
    await runner.stopAll();
    expect(runner.status()).toEqual([]);
  });

  it('during a stop, status shows the parts that still run', async () => {
    const { events, shared } = recorder();
    let release = () => undefined as void;
    const held = new Promise<void>((r) => (release = r));
    const store = part('store', events, { status: () => ({ dbOpen: true }) });
    const readers: Part = { ...part('readers', events, { status: () => ({ readers: [] }) }), stopBoundMs: 5000, stop: () => held };
    const runner = new PartRunner([store, readers], shared);
    await runner.startAll();
    const stopping = runner.stopAll();
    await new Promise((r) => setTimeout(r, 10));
    expect(runner.status()).toEqual([{ dbOpen: true }]);
    release();
    await stopping;
    expect(runner.status()).toEqual([]);
  });

  it('a part sees the routes of the parts started before it, not after', async () => {
    const { events, shared } = recorder();
    const early = new Hono();
    const late = new Hono();
    let seen: readonly PartRoutes[] = [];
    const http: Part = { name: 'http', stopBoundMs: 50, start: (ctx: PartContext) => void (seen = ctx.routes()), stop: () => undefined };
    const runner = new PartRunner([part('api', events, { routes: { api: early } }), http, part('console', events, { routes: { api: late } })], shared);
    await runner.startAll();
    expect(seen).toEqual([{ api: early }]);
  });

  it('passes a committed reload to each running part', async () => {
    const { events, shared } = recorder();
    const runner = new PartRunner([part('a', events), part('b', events)], shared);
    await runner.startAll();
    const next = parseConfig({ site: { id: 'next' }, doors: [{ id: 'front' }] });
    runner.reloaded({ config: next, previous: shared.config(), upstreamTokens: new Map() });
    expect(events.slice(2)).toEqual(['reloaded a next', 'reloaded b next']);
  });

  it('refuses two parts of one name: a timed-out stop would not say which', () => {
    const { events, shared } = recorder();
    expect(() => new PartRunner([part('a', events), part('a', events)], shared)).toThrow(/two parts are named "a"/);
  });
});
