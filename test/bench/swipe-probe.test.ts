/**
 * The hardening bench's swipe probe (bench/swipe-probe.ts) against a stand-in gateway: real
 * Mosquitto, real socat ptys, the built probe as a child process. The stand-in reads each
 * reader's lines and publishes one pulse command per line on that reader's door, as the gateway
 * does for granted reads, and counts the acks the probe sends back as the doors' firmware.
 */
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadStream } from 'node:tty';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PulseCommand, topics } from '../../src/doors/protocol.js';
import { SwipeProbe } from '../../bench/swipe-probe-client.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startSocatPty, type SocatPty } from '../helpers/pty.js';

const SITE = 'probe';
const doors = ['d0', 'd1'];
const t = topics('lintel', SITE);
let dir: string;
let broker: TestBroker;
let ptys: SocatPty[];
let gateway: MqttClient;
let lines: ReadStream[];
const acks: string[] = [];
let cardsSeen: string[] = [];
let probe: SwipeProbe;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swipe-probe-'));
  broker = await startTestBroker();
  ptys = await Promise.all(doors.map((d) => startSocatPty(dir, d)));
  gateway = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  await gateway.subscribeAsync(t.allAcks, { qos: 1 });
  gateway.on('message', (topic) => acks.push(topic));
  lines = ptys.map((p, k) => {
    const stream = new ReadStream(openSync(p.gatewaySide, 'r+'));
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let i = buffered.indexOf('\r\n'); i >= 0; i = buffered.indexOf('\r\n')) {
        cardsSeen.push(buffered.slice(0, i));
        buffered = buffered.slice(i + 2);
        const now = Date.now();
        gateway.publish(t.cmd(doors[k]!), new PulseCommand(`c${now}-${cardsSeen.length}`, 1, 500, now, now + 2000).serialize(), { qos: 1 });
      }
    });
    return stream;
  });
  const readers = ptys.map((p, k) => ({ doorId: doors[k]!, devicePath: p.deviceSide, cards: { base: 500 + k, stride: 10, count: 3 } }));
  probe = await SwipeProbe.start(broker.url, SITE, readers, 2000);
});

afterAll(async () => {
  await probe?.close();
  for (const s of lines ?? []) s.destroy();
  await gateway?.endAsync(true);
  for (const p of ptys ?? []) await p.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('swipe probe', () => {
  it('warms up, then returns one sample per swipe of a phase, each door answered and acked', async () => {
    await probe.warmUp(2);
    const sentBefore = probe.sent;
    cardsSeen = [];
    await probe.begin();
    const loop = await probe.openLoop({ readers: [0, 1], perSec: 200, minReads: 40, minMs: 0, maxMs: 30_000 });
    expect(await probe.drain(10_000)).toBe(0);
    expect(loop.swipes).toBe(40);
    expect(probe.sent - sentBefore).toBe(40);
    expect(probe.taken()).toHaveLength(40);
    expect(probe.taken().every((ns) => ns > 0)).toBe(true);
    expect(probe.unexpected).toBe(0);
    expect(probe.refused).toBe(0);
    expect(Number.isFinite(probe.loopDelay.maxMs)).toBe(true);
    // Reader k writes the cards base + stride × j of its door.
    expect(new Set(cardsSeen)).toEqual(new Set(['500', '510', '520', '501', '511', '521']));
    // Every command, warm-up included, is acked on its own door's topic.
    await expect.poll(() => acks.length).toBe(probe.sent);
    expect(new Set(acks)).toEqual(new Set(doors.map((d) => t.ack(d))));
  });

  it("ends an open loop when the bench's until turns true, and fails it when abortIf names a reason", async () => {
    let enough = false;
    setTimeout(() => (enough = true), 200);
    const ended = await probe.openLoop({ readers: [0], perSec: 50, minReads: 1, minMs: 0, maxMs: 120_000, until: () => enough });
    // At 50/s, a loop that ran to maxMs would have written 6,000 swipes.
    expect(ended.swipes).toBeLessThan(6000);
    await probe.drain(10_000);
    probe.abortIf = () => 'the gateway is gone';
    await expect(probe.openLoop({ readers: [0], perSec: 50, minReads: 1_000_000, minMs: 0, maxMs: 120_000 })).rejects.toThrow('the gateway is gone');
    probe.abortIf = () => null;
  });
});
