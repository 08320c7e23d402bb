import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleEventHub } from '../../src/http/console/event-hub.js';
import { Metrics } from '../../src/metrics.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { consoleSite } from './console-fixture-site.js';

/*
 * /events: the first message is the whole state, then decisions as they happen (a name only
 * for a signed-in page), heartbeats, a cap on clients, a slow client dropped instead of
 * buffered, and a closed page unsubscribed.
 */

const operator = { name: 'olga', role: 'operator' } as const;

let site: ReturnType<typeof consoleSite>;
afterEach(() => site?.close());

/** Reads SSE messages off a response body, one at a time. */
function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  return {
    async next(): Promise<{ event: string; data: string }> {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          return { event, data };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffered += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('the live stream', () => {
  it('opens with every live section, then sends each decision as a row: named for the signed-in, masked for anonymous', async () => {
    site = consoleSite();
    const signed = site.make(operator);
    const anon = site.make(null);
    const res = await signed.app.request('/events');
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const stream = sseReader(res);
    const first = await stream.next();
    expect(first.event).toBe('status');
    expect(Object.keys(JSON.parse(first.data) as object)).toEqual(expect.arrayContaining(['sec-health', 'sec-doors', 'sec-readers', 'sec-pending', 'sec-alarms']));
    const anonStream = sseReader(await anon.app.request('/events'));
    await anonStream.next();

    site.decide({ at: site.clock.now(), readerId: 'desk', doorId: 'front', credential: '*****61', kind: 'card', result: 'granted', reason: 'granted', relay: 'sent' }, site.anaId);
    const row = await stream.next();
    expect(row.event).toBe('decision');
    expect(row.data).toContain('Ana &lt;b&gt;Lima&lt;/b&gt;');
    expect(row.data).toContain('*****61');
    const anonRow = await anonStream.next();
    expect(anonRow.event).toBe('decision');
    expect(anonRow.data).not.toContain('Ana');
    expect(anonRow.data).toContain('*****61');
    await stream.cancel();
    await anonStream.cancel();
    signed.stop();
    anon.stop();
  });

  it('sends heartbeats and the sections again on the clock, and soon after a door changed state', async () => {
    site = consoleSite();
    const c = site.make(operator, 'tok-1', { heartbeatMs: 10_000, statusMs: 60_000 });
    const stream = sseReader(await c.app.request('/events'));
    await stream.next();
    site.clock.advance(10_000);
    expect((await stream.next()).event).toBe('heartbeat');
    site.clock.advance(50_000);
    const events: string[] = [];
    for (let m = await stream.next(); ; m = await stream.next()) {
      events.push(m.event);
      if (m.event === 'status') break;
    }
    expect(events).toEqual(['heartbeat', 'heartbeat', 'heartbeat', 'heartbeat', 'heartbeat', 'status']);
    site.doorChanged();
    site.doorChanged(); // a burst is one push
    site.clock.advance(250);
    expect((await stream.next()).event).toBe('status');
    site.clock.advance(9_750);
    expect((await stream.next()).event).toBe('heartbeat');
    await stream.cancel();
    c.stop();
    expect(site.doorListeners.size).toBe(0);
  });

  it('caps the number of live pages: one more is answered 503 and falls back to its refresh', async () => {
    site = consoleSite();
    const c = site.make(operator, 'tok-1', { maxClients: 1 });
    const first = sseReader(await c.app.request('/events'));
    await first.next();
    const second = await c.app.request('/events');
    expect(second.status).toBe(503);
    await first.cancel();
    c.stop();
  });

  it('forgets a page that closed its stream', async () => {
    site = consoleSite();
    const c = site.make(operator);
    const stream = sseReader(await c.app.request('/events'));
    await stream.next();
    expect(c.hub.size).toBe(1);
    await stream.cancel();
    await expect.poll(() => c.hub.size).toBe(0);
    c.stop();
  });
});

describe('ConsoleEventHub', () => {
  it('drops a client whose queue is full instead of holding more for it', async () => {
    const clock = new FakeClock();
    const hub = new ConsoleEventHub({ clock, logger: silentLogger, metrics: new Metrics(), limits: { maxClients: 4, maxQueued: 3, heartbeatMs: 1000, statusMs: 100_000 }, renderStatus: async () => '{}' });
    const slow = hub.join(null)!;
    const quick = hub.join(null)!;
    for (let i = 0; i < 4; i++) {
      hub.broadcast('decision', () => `row ${i}`);
      expect((await quick.next())?.data).toBe(`row ${i}`);
    }
    expect(slow.closed).toBe(true);
    expect(await slow.next()).toBeNull();
    expect(hub.size).toBe(1);
    expect(hub.dropped).toBe(1);
    hub.stop();
    expect(quick.closed).toBe(true);
  });

  it('renders once per role present, and a render that throws costs that message only', async () => {
    const clock = new FakeClock();
    const metrics = new Metrics();
    const hub = new ConsoleEventHub({ clock, logger: silentLogger, metrics, limits: { maxClients: 4, maxQueued: 8, heartbeatMs: 1000, statusMs: 100_000 }, renderStatus: async () => '{}' });
    const a = hub.join({ name: 'a', role: 'operator' })!;
    const b = hub.join({ name: 'b', role: 'operator' })!;
    let renders = 0;
    hub.broadcast('decision', () => `r${++renders}`);
    expect([(await a.next())?.data, (await b.next())?.data]).toEqual(['r1', 'r1']);
    hub.broadcast('decision', () => {
      throw new Error('boom');
    });
    hub.broadcast('decision', () => 'after');
    expect((await a.next())?.data).toBe('after');
    expect(await metrics.backgroundErrors.get()).toMatchObject({ values: [{ labels: { task: 'console-render' }, value: 1 }] });
    hub.stop();
  });
});
