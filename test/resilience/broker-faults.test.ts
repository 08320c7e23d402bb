import { afterEach, describe, expect, it } from 'vitest';
import type { ReaderConfig } from '../../src/config/schema.js';
import { DoorRelay, type PulseOutcome } from '../../src/doors/door-relay.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { GatewayStatus, DoorState, topics } from '../../src/doors/protocol.js';
import { Metrics } from '../../src/metrics.js';
import { BadgePipeline } from '../../src/pipeline/badge-pipeline.js';
import { DecisionRecorder } from '../../src/pipeline/decision-recorder.js';
import { RecentDecisions } from '../../src/pipeline/recent-decisions.js';
import { AuditLog } from '../../src/store/audit.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import { systemClock, type Clock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { testStore } from '../helpers/store.js';
import { door, mqttConfig, Observer, PREFIX, SITE, TcpProxy } from '../doors/fixtures.js';
import { DelayProxy, eventually, FirmwareLog, skewedClock, sleep } from './helpers-updoors.js';

/**
 * Broker faults, with a real Mosquitto the test starts, stops, freezes and slows: the gateway's
 * side (DoorRelay, the badge pipeline, the audit log in a real SQLite file) and the reference
 * firmware (DoorSimulator) on real sockets and the real clock. What is checked is what the door
 * did, on the door's own clock: no unlock executed after its expiresAt.
 */

const t = topics(PREFIX, SITE);
const CARD = '7340861';
const STRANGER = '42';
const reader: ReaderConfig = { id: 'r-front', kind: 'stdin', door: 'front', direction: 'in', cardFormat: 'decimal', payload: 'card', maxLineLength: 256 };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function mosquitto(port?: number): Promise<TestBroker> {
  const broker = await startTestBroker(port === undefined ? {} : { port });
  // The faults below are process signals: the in-process fallback cannot be frozen or killed.
  if (broker.kind !== 'mosquitto' || broker.pid === null) throw new Error('these tests need mosquitto installed');
  const pid = broker.pid;
  cleanups.push(async () => {
    try { process.kill(pid, 'SIGCONT'); } catch { /* already gone */ }
    await broker.stop();
  });
  return broker;
}

interface RigOptions {
  gatewayUrl: string;
  doorUrl: string;
  doorClock?: Clock;
  keepaliveSec?: number;
}

/** The gateway's door path (index → pipeline → relay → audit) and one reference door. */
async function rig(o: RigOptions) {
  const s = testStore(['front']);
  cleanups.push(() => s.close());
  const now = Date.now();
  s.store.transact((tx) => {
    const ana = upsertPerson(tx, 'ana@example.com', 'Ana', now);
    assignCredential(tx, ana, CARD, 'decimal', 'active', now);
    replaceSourceGrants(tx, 'staff', 'import:ana', [{ personId: ana, doorId: 'front', validFrom: now - 3_600_000, validTo: now + 3_600_000 }]);
  });
  const relay = new DoorRelay({
    mqtt: { ...mqttConfig(o.gatewayUrl), keepaliveSec: o.keepaliveSec ?? 30 },
    siteId: SITE,
    doors: [door('front')],
    clock: systemClock,
    logger: silentLogger,
    reconnectPeriodMs: 100,
  });
  cleanups.push(() => relay.stop());
  await relay.start();
  const sim = new DoorSimulator({ url: o.doorUrl, prefix: PREFIX, siteId: SITE, doorId: 'front', clock: o.doorClock ?? systemClock });
  cleanups.push(() => sim.stop().catch(() => undefined));
  const firmware = new FirmwareLog(sim);
  await sim.start();
  const outcomes: PulseOutcome[] = [];
  const port = { pulse: (d: string) => { const out = relay.pulse(d); outcomes.push(out); return out; } };
  const recorder = new DecisionRecorder({ audit: new AuditLog(s.store.db), clock: systemClock, logger: silentLogger, metrics: new Metrics(), recent: new RecentDecisions() });
  cleanups.push(() => recorder.flush());
  const pipeline = new BadgePipeline({ index: s.index, relay: port, recorder, clock: systemClock, logger: silentLogger, qr: null });
  return {
    relay,
    sim,
    firmware,
    outcomes,
    /** A read on the front reader; returns the command id when an unlock was sent. */
    swipe(card = CARD): string | null {
      const before = outcomes.length;
      pipeline.onLine(reader, card);
      return outcomes.length > before ? outcomes[outcomes.length - 1]!.commandId : null;
    },
    audit(): { result: string; reason: string; relay: string | null }[] {
      recorder.flush();
      return s.store.db.prepare('SELECT result, reason, relay FROM audit ORDER BY id').all() as { result: string; reason: string; relay: string | null }[];
    },
  };
}

/** Sends one unlock and waits until the door executed it: the path works, on time. */
async function unlockOnTime(r: Awaited<ReturnType<typeof rig>>): Promise<void> {
  const id = r.swipe();
  expect(id).not.toBeNull();
  await r.firmware.acked([id!]);
  expect(r.firmware.ackOf(id!)?.result).toBe('executed');
}

describe('broker faults: no unlock executed late', () => {
  it('a broker frozen (SIGSTOP) for 6 s delivers queued unlocks late; the firmware executes none of them', async () => {
    const broker = await mosquitto();
    const r = await rig({ gatewayUrl: broker.url, doorUrl: broker.url });
    await unlockOnTime(r);

    process.kill(broker.pid!, 'SIGSTOP');
    // The TCP connection is still up: the gateway cannot tell a frozen broker from a quiet one
    // until its keepalive fails, so these unlocks really go out, into the stalled broker.
    const stalled: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = r.swipe();
      if (id) stalled.push(id);
      await sleep(200);
    }
    expect(stalled).toHaveLength(5);
    await sleep(6000 - 5 * 200);
    process.kill(broker.pid!, 'SIGCONT');

    await r.firmware.acked(stalled);
    expect(stalled.map((id) => r.firmware.ackOf(id)?.result)).toEqual(Array(5).fill('expired'));
    expect(r.firmware.executed).toHaveLength(1);
    expect(r.firmware.late()).toEqual([]);
    // Every read was decided and audited, frozen broker or not.
    expect(r.audit().map((a) => [a.result, a.relay])).toEqual(Array(6).fill(['granted', 'sent']));

    await unlockOnTime(r); // and the door opens again on time once the broker runs
    expect(r.firmware.late()).toEqual([]);
  }, 30_000);

  it('a slow link (every byte delayed past the 2 s command lifetime) gets no unlock executed; a delay within it does', async () => {
    const broker = await mosquitto();
    const slow = await DelayProxy.start(broker.port);
    cleanups.push(() => slow.close());
    const r = await rig({ gatewayUrl: broker.url, doorUrl: slow.url });
    await unlockOnTime(r);

    // Inside the lifetime: executed, before its expiresAt on the door's clock.
    slow.delayMs = 1200;
    const inTime = [r.swipe()!, r.swipe()!];
    await r.firmware.acked(inTime);
    expect(inTime.map((id) => r.firmware.ackOf(id)?.result)).toEqual(['executed', 'executed']);

    // 2.3 s: past expiresAt (2 s), though less than expiresAt + the 500 ms skew tolerance.
    slow.delayMs = 2300;
    const tooLate = [r.swipe()!, r.swipe()!, r.swipe()!];
    await r.firmware.acked(tooLate);
    expect(tooLate.map((id) => r.firmware.ackOf(id)?.result)).toEqual(['expired', 'expired', 'expired']);
    expect(r.firmware.late()).toEqual([]);
    expect(r.firmware.executed).toHaveLength(3);
    slow.delayMs = 0; // lets the door's clean shutdown through promptly
  }, 30_000);

  it('a slow link on the gateway side (into the broker, past the lifetime): the broker still delivers, the firmware executes none', async () => {
    const broker = await mosquitto();
    const slow = await DelayProxy.start(broker.port);
    cleanups.push(() => slow.close());
    const r = await rig({ gatewayUrl: slow.url, doorUrl: broker.url });
    await unlockOnTime(r);
    // The broker's message expiry only starts when the command reaches it: it does not help here.
    slow.delayMs = 2300;
    const tooLate = [r.swipe()!, r.swipe()!];
    await r.firmware.acked(tooLate);
    expect(tooLate.map((id) => r.firmware.ackOf(id)?.result)).toEqual(['expired', 'expired']);
    expect(r.firmware.late()).toEqual([]);
    slow.delayMs = 0;
  }, 30_000);

  it('clock skew is handled as documented: a door 800 ms behind refuses (clock-skew), 300 ms ahead still judges expiry on its own clock', async () => {
    const broker = await mosquitto();
    const behind = await rig({ gatewayUrl: broker.url, doorUrl: broker.url, doorClock: skewedClock(-800) });
    const id = behind.swipe()!;
    await behind.firmware.acked([id]);
    expect(behind.firmware.ackOf(id)).toMatchObject({ result: 'rejected', reason: 'clock-skew' });
    expect(behind.firmware.executed).toEqual([]);
    await behind.sim.stop();

    const slow = await DelayProxy.start(broker.port);
    cleanups.push(() => slow.close());
    const ahead = await rig({ gatewayUrl: broker.url, doorUrl: slow.url, doorClock: skewedClock(300) });
    slow.delayMs = 1900; // on time by the gateway's clock, 200 ms late by the door's
    const late = ahead.swipe()!;
    await ahead.firmware.acked([late]);
    expect(ahead.firmware.ackOf(late)?.result).toBe('expired');
    expect(ahead.firmware.late()).toEqual([]);
    slow.delayMs = 0;
  }, 30_000);
});

describe('broker faults: the gateway keeps deciding and comes back announced', () => {
  it('a broker frozen longer than the keepalive: the gateway gives up on it, reads are audited unreachable, and it reconnects after SIGCONT', async () => {
    const broker = await mosquitto();
    const r = await rig({ gatewayUrl: broker.url, doorUrl: broker.url, keepaliveSec: 5 });
    await unlockOnTime(r);
    const down = new Promise<void>((resolve) => { const off = r.relay.onConnection((up) => { if (!up) { off(); resolve(); } }); });
    process.kill(broker.pid!, 'SIGSTOP');
    await down; // the keepalive's unanswered PINGREQ, not a timer of the test
    expect(r.swipe()).toBeNull();
    expect(r.swipe(STRANGER)).toBeNull();
    process.kill(broker.pid!, 'SIGCONT');
    await eventually('gateway reconnected', () => r.relay.connected());
    await unlockOnTime(r);
    expect(r.audit().map((a) => [a.result, a.relay])).toEqual([
      ['granted', 'sent'],
      ['granted', 'unreachable'],
      ['denied', 'none'],
      ['granted', 'sent'],
    ]);
    expect(r.firmware.executed).toHaveLength(2);
    expect(r.firmware.late()).toEqual([]);
  }, 40_000);

  it('broker killed: reads are decided and audited as unreachable; restarted on the same port, status is republished and nothing from the outage is executed', async () => {
    let broker = await mosquitto();
    const r = await rig({ gatewayUrl: broker.url, doorUrl: broker.url });
    await unlockOnTime(r);

    const down = new Promise<void>((resolve) => { const off = r.relay.onConnection((up) => { if (!up) { off(); resolve(); } }); });
    process.kill(broker.pid!, 'SIGKILL');
    await down;
    const during = [r.swipe(), r.swipe(STRANGER), r.swipe()];
    expect(during).toEqual([null, null, null]);
    expect(r.outcomes.slice(-2).map((o) => o.status)).toEqual(['unreachable', 'unreachable']);
    expect(r.audit().slice(1).map((a) => [a.result, a.reason, a.relay])).toEqual([
      ['granted', 'granted', 'unreachable'],
      ['denied', 'unknown_credential', 'none'],
      ['granted', 'granted', 'unreachable'],
    ]);

    // A fresh broker (no persistence): only a republish can put the retained messages back.
    broker = await mosquitto(broker.port);
    await eventually('gateway and door reconnected', () => r.relay.connected() && r.sim.state().online);
    const observer = await Observer.connect(broker.url);
    cleanups.push(() => observer.close());
    await observer.subscribe(`${t.base}/#`);
    const status = await observer.first('retained gateway status', (p) => p.topic === t.gatewayStatus && p.retain);
    expect(GatewayStatus.parse(status.payload).state).toBe('online');
    const state = await observer.first('retained door state', (p) => p.topic === t.state('front') && p.retain);
    expect(DoorState.parse(state.payload).online).toBe(true);

    await unlockOnTime(r);
    expect(r.firmware.executed).toHaveLength(2); // the outage's unlocks were never sent, so never run
    expect(observer.on(t.cmd('front'))).toHaveLength(1);
    expect(r.firmware.late()).toEqual([]);
  }, 30_000);

  it('gateway link cut without DISCONNECT: the broker publishes its last will (offline), and online is republished on reconnect', async () => {
    const broker = await mosquitto();
    const link = await TcpProxy.start(broker.port);
    cleanups.push(() => link.close());
    const observer = await Observer.connect(broker.url);
    cleanups.push(() => observer.close());
    await observer.subscribe(t.gatewayStatus);
    const r = await rig({ gatewayUrl: link.url, doorUrl: broker.url });
    await observer.first('online', (p) => GatewayStatus.parse(p.payload).state === 'online');

    const will = observer.next('last will', (p) => GatewayStatus.parse(p.payload).state === 'offline');
    const back = observer.next('online again', (p) => GatewayStatus.parse(p.payload).state === 'online');
    link.cut();
    await will;
    await back;
    // A late subscriber sees the retained truth: online.
    const late = await Observer.connect(broker.url);
    cleanups.push(() => late.close());
    await late.subscribe(t.gatewayStatus);
    const retained = await late.first('retained status', (p) => p.retain);
    expect(GatewayStatus.parse(retained.payload).state).toBe('online');
    await unlockOnTime(r);
  }, 30_000);
});
