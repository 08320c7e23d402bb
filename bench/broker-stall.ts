/**
 * A hung broker, measured: how late do unlocks arrive at a door when Mosquitto is frozen
 * (SIGSTOP) for a while, or when the link to the door delays every byte — and does the
 * reference firmware execute any of them after its expiresAt? (It must not: firmware-protocol,
 * "expiresAt is the guarantee".)
 *
 * Real Mosquitto (MQTT 5, 2 s commands with 2 s message expiry), the gateway's DoorRelay, the
 * reference firmware (DoorSimulator) on the real clock. Run after `npm run build`:
 *   node dist/bench/broker-stall.js [stallSec=6] [slowLinkMs=2300]
 * Exit code 1 if any unlock was executed after its expiresAt.
 */
import { DoorRelay } from '../src/doors/door-relay.js';
import { DoorSimulator } from '../src/doors/door-simulator.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';
import { startTestBroker } from '../test/helpers/broker.js';
import { DelayProxy, FirmwareLog, sleep } from '../test/resilience/helpers-updoors.js';

const STALL_MS = Number(process.argv[2] ?? 6) * 1000;
const SLOW_LINK_MS = Number(process.argv[3] ?? 2300);
const TTL_MS = 2000;
const EVERY_MS = 100;
const SITE = 'hq';
const PREFIX = 'lintel';

const broker = await startTestBroker();
if (broker.kind !== 'mosquitto' || broker.pid === null) throw new Error('needs mosquitto');
const slow = await DelayProxy.start(broker.port);
const relay = new DoorRelay({
  mqtt: { url: broker.url, embeddedPort: 1883, topicPrefix: PREFIX, protocolVersion: 5, keepaliveSec: 30 },
  siteId: SITE,
  doors: [
    { id: 'direct', driver: 'lintel', pulseMs: 3000, relay: { channel: 1 }, commandTtlMs: TTL_MS, visitors: false, alarms: { heldOpenSeconds: 30, forcedOpen: true } },
    { id: 'slow', driver: 'lintel', pulseMs: 3000, relay: { channel: 1 }, commandTtlMs: TTL_MS, visitors: false, alarms: { heldOpenSeconds: 30, forcedOpen: true } },
  ],
  clock: systemClock,
  logger: silentLogger,
  reconnectPeriodMs: 100,
});
await relay.start();
const direct = new DoorSimulator({ url: broker.url, prefix: PREFIX, siteId: SITE, doorId: 'direct' });
const viaSlow = new DoorSimulator({ url: slow.url, prefix: PREFIX, siteId: SITE, doorId: 'slow' });
const logs = { direct: new FirmwareLog(direct), slow: new FirmwareLog(viaSlow) };
await direct.start();
await viaSlow.start();

/** Waits for the acks, but a door that never answers some is a figure to print, not a crash. */
async function acksOf(door: 'direct' | 'slow', sent: Sent[]): Promise<void> {
  await logs[door].acked(sent.map((s) => s.id), 30_000).catch(() => undefined);
}

interface Sent {
  id: string;
  issuedAt: number;
  expiresAt: number;
}

/** Sends one unlock every EVERY_MS for `ms` (each stamped with its own issuedAt/expiresAt). */
async function sendFor(doorId: 'direct' | 'slow', ms: number): Promise<Sent[]> {
  const sent: Sent[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const now = Date.now();
    const out = relay.pulse(doorId);
    if (out.status === 'sent') sent.push({ id: out.commandId, issuedAt: now, expiresAt: now + TTL_MS });
    await sleep(EVERY_MS);
  }
  return sent;
}

let executedLate = 0;
function report(phase: string, door: 'direct' | 'slow', sent: Sent[]): void {
  const log = logs[door];
  // The ack's `at` is the door's clock when it decided: the arrival, as the firmware saw it.
  const arrivals = sent.map((s) => ({ s, ack: log.ackOf(s.id) }));
  const delays = arrivals.map(({ s, ack }) => (ack ? ack.at - s.issuedAt : Number.NaN)).filter(Number.isFinite).sort((a, b) => a - b);
  const pastExpiry = arrivals.filter(({ s, ack }) => ack && ack.at > s.expiresAt).length;
  const results: Record<string, number> = {};
  for (const { ack } of arrivals) results[ack?.result ?? 'no ack'] = (results[ack?.result ?? 'no ack'] ?? 0) + 1;
  const ids = new Set(sent.map((s) => s.id));
  const executed = log.executed.filter((p) => ids.has(p.id));
  const late = executed.filter((p) => p.at > p.expiresAt);
  executedLate += late.length;
  const q = (f: number) => delays[Math.min(delays.length - 1, Math.floor(f * delays.length))] ?? Number.NaN;
  console.log(
    `${phase.padEnd(34)} sent ${String(sent.length).padStart(3)}  delivery delay min/p50/max ${q(0)}/${q(0.5)}/${delays[delays.length - 1] ?? Number.NaN} ms` +
      `  arrived past expiresAt ${pastExpiry}  executed ${executed.length}  executed after expiresAt ${late.length}  acks ${JSON.stringify(results)}`,
  );
}

console.log(`command lifetime ${TTL_MS} ms (MQTT 5 message expiry ${Math.ceil(TTL_MS / 1000)} s), one unlock every ${EVERY_MS} ms`);

const idle = await sendFor('direct', 2000);
await acksOf('direct', idle);
report('idle', 'direct', idle);

process.kill(broker.pid, 'SIGSTOP');
const stalled = await sendFor('direct', STALL_MS);
process.kill(broker.pid, 'SIGCONT');
await acksOf('direct', stalled);
report(`broker SIGSTOP ${STALL_MS / 1000} s`, 'direct', stalled);

slow.delayMs = SLOW_LINK_MS;
await sleep(50);
const slowed = await sendFor('slow', 3000);
await acksOf('slow', slowed);
report(`link to door delays ${SLOW_LINK_MS} ms`, 'slow', slowed);

slow.delayMs = Math.round(TTL_MS * 0.6);
await sleep(SLOW_LINK_MS + 100);
const within = await sendFor('slow', 2000);
await acksOf('slow', within);
report(`link to door delays ${slow.delayMs} ms`, 'slow', within);

console.log(executedLate === 0 ? 'OK: no unlock executed after its expiresAt' : `FAIL: ${executedLate} unlocks executed after their expiresAt`);
process.exitCode = executedLate === 0 ? 0 : 1;

viaSlow.crash();
direct.crash();
await relay.stop();
await slow.close();
await broker.stop();
