import { afterEach, describe, expect, it } from 'vitest';
import { EventsLink, MAX_BUFFERED_BYTES } from '../../src/events/events-link.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker } from '../helpers/broker.js';
import { mqttConfig } from '../doors/fixtures.js';

/* The events connection against a broker that stops reading: it drops and counts, its buffer stays bounded. */

describe('events link', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('drops events once the socket holds more than MAX_BUFFERED_BYTES for a frozen broker, instead of queueing them', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.stop());
    if (broker.pid === null) throw new Error('this test needs Mosquitto (a process it can freeze)');
    const outcomes = new Map<string, number>();
    const link = new EventsLink({
      mqtt: mqttConfig(broker.url),
      siteId: 'frozen',
      url: broker.url,
      protocolVersion: 5,
      logger: silentLogger,
      subscriptions: () => [],
      counted: (o) => void outcomes.set(o, (outcomes.get(o) ?? 0) + 1),
    });
    await link.start();
    cleanups.push(() => link.stop());
    expect(link.isConnected()).toBe(true);
    const pid = broker.pid;
    process.kill(pid, 'SIGSTOP');
    cleanups.push(() => void process.kill(pid, 'SIGCONT')); // first of the cleanups: the link and the broker then stop as usual
    const payload = JSON.stringify({ v: 1, pad: 'x'.repeat(4000) });
    let sent = 0;
    // The kernel's socket buffers take a few MB first; 100 MB is far past any of them.
    while (link.publish('lintel/frozen/events/decision', payload) && sent < 25_000) sent += 1;
    expect(sent).toBeLessThan(25_000);
    expect(link.counts.backlog).toBe(1);
    expect(outcomes.get('backlog')).toBe(1);
    expect(outcomes.get('published')).toBe(sent);
    // Bounded: at most the cap and the one publish that crossed it are held in the process.
    expect(link.bufferedBytes()).toBeGreaterThan(MAX_BUFFERED_BYTES);
    expect(link.bufferedBytes()).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + payload.length + 64);
  }, 30_000);
});
