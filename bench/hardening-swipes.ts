/**
 * The hardware on both sides of the gateway: it writes card lines into the readers' ptys and
 * subscribes as the doors' firmware. Both ends share one monotonic clock (process.hrtime), so a
 * sample is swipe written → pulse command received, nothing else. The hardening bench runs it in
 * a process that does nothing else (bench/swipe-probe.ts); bench/scale.ts in its own process.
 *
 * Open loop: swipes are written on a fixed schedule whether or not earlier ones were answered,
 * as people arrive at doors. A gateway that stalls for 5 s is charged 5 s for every read that
 * waited, not one sample for the whole stall (a closed loop would hide the stall by not reading).
 * Pulses are matched to swipes per door in order: the gateway decides a reader's lines in
 * order and only granted reads are sent, so the n-th command on a door answers its n-th swipe.
 * A swipe with no command at all would shift the matching late, which only makes figures worse.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { DoorAck, PulseCommand, topics } from '../src/doors/protocol.js';
import { sleep } from './hardening-procs.js';

export interface ReaderEnd {
  doorId: string;
  /** The pty end a reader's hardware writes into. */
  devicePath: string;
  /** A granted card for this reader's door, drawn afresh for each swipe. */
  pickCard(): string;
}

export interface LoopPlan {
  readers: readonly number[];
  /** Swipes per second over all `readers`, spread evenly and taken in turn. */
  perSec: number;
  minReads: number;
  minMs: number;
  maxMs: number;
  /** Keep going until this says so (after minReads and minMs). */
  until?: () => boolean;
}

export class SwipeDriver {
  /** Swipes whose line the pty would not take (its buffer full: the gateway is not reading). */
  refused = 0;
  /** Commands that answered no swipe (none outstanding on that door). */
  unexpected = 0;
  sent = 0;
  /**
   * Pulses that arrived later than the door's command lifetime after their swipe and that the
   * firmware would still execute (expiresAt not yet passed): a door opening that late. Per phase.
   */
  lateOpens = 0;
  /** Polled while waiting: when it says the gateway is gone, waiting ends at once with an error. */
  abortIf: () => string | null = () => null;
  private samples: number[] = [];
  private outstanding = 0;
  private readonly fds: number[];
  private readonly pending: bigint[][];
  private readonly doorOfTopic = new Map<string, number>();
  private readonly ackTopics: string[];

  private constructor(
    private readonly sub: MqttClient,
    private readonly readers: readonly ReaderEnd[],
    siteId: string,
    private readonly commandTtlMs: number,
  ) {
    const t = topics('lintel', siteId);
    readers.forEach((r, k) => this.doorOfTopic.set(t.cmd(r.doorId), k));
    this.ackTopics = readers.map((r) => t.ack(r.doorId));
    // Non-blocking: a stalled gateway fills the pty, and a blocking write would then stall the
    // bench itself, stamping every later arrival late. A refused line is counted instead.
    this.fds = readers.map((r) => openSync(r.devicePath, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK));
    this.pending = readers.map(() => []);
    sub.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  /** `commandTtlMs`: the doors' configured command lifetime (to tell a late opening). */
  static async connect(brokerUrl: string, siteId: string, readers: readonly ReaderEnd[], commandTtlMs: number): Promise<SwipeDriver> {
    // A no-op trace, as the gateway's client has (src/doors/mqtt-options.ts): MQTT.js's disabled
    // `debug` still allocates per packet, ~4 packets a pulse here, and collections delay stamps.
    const log = /mqttjs/.test(process.env.DEBUG ?? '') ? {} : { log: () => {} };
    const sub = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5, reconnectPeriod: 0, ...log });
    (sub.stream as Socket).setNoDelay(true); // as door firmware does (lwIP TCP_NODELAY)
    const driver = new SwipeDriver(sub, readers, siteId, commandTtlMs);
    await sub.subscribeAsync([...driver.doorOfTopic.keys()], { qos: 1 });
    return driver;
  }

  /** Starts a new set of samples (a phase). */
  begin(): void {
    this.samples = [];
    this.lateOpens = 0;
  }

  /** The samples since begin(), in ns. */
  taken(): number[] {
    return this.samples;
  }

  swipe(k: number): void {
    const line = `${this.readers[k]!.pickCard()}\r\n`;
    const t0 = process.hrtime.bigint();
    let written: number;
    try {
      written = writeSync(this.fds[k]!, line);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      this.refused++;
      return;
    }
    if (written !== line.length) throw new Error(`pty took ${written} of ${line.length} bytes`);
    this.pending[k]!.push(t0);
    this.outstanding++;
    this.sent++;
  }

  /**
   * Writes swipes on schedule i / perSec from the start. When the bench's own timer fires late,
   * the swipes that were due are written at once: the schedule is the arrivals', not the bench's.
   */
  openLoop(plan: LoopPlan): Promise<{ swipes: number; ms: number }> {
    const intervalMs = 1000 / plan.perSec;
    const start = performance.now();
    let i = 0;
    return new Promise((resolve, reject) => {
      const tick = () => {
        try {
          const why = this.abortIf();
          if (why !== null) throw new Error(why);
          const now = performance.now();
          while (start + i * intervalMs <= now) this.swipe(plan.readers[i++ % plan.readers.length]!);
          const elapsed = now - start;
          const enough = i >= plan.minReads && elapsed >= plan.minMs && (plan.until?.() ?? true);
          if (enough || elapsed >= plan.maxMs) return resolve({ swipes: i, ms: elapsed });
          setTimeout(tick, Math.max(0, start + i * intervalMs - performance.now()));
        } catch (err) {
          reject(err as Error);
        }
      };
      tick();
    });
  }

  /** Waits until every swipe has its pulse or `timeoutMs` pass; returns how many got none (then forgotten). */
  async drain(timeoutMs: number): Promise<number> {
    const end = performance.now() + timeoutMs;
    while (this.outstanding > 0 && performance.now() < end) {
      const why = this.abortIf();
      if (why !== null) throw new Error(why);
      await sleep(5);
    }
    const missing = this.outstanding;
    for (const q of this.pending) q.length = 0;
    this.outstanding = 0;
    return missing;
  }

  /**
   * One swipe per reader until every reader answers (a reader's first line may arrive before the
   * gateway has opened the pty), then `rounds` swipes per reader to warm the JIT and caches.
   */
  async warmUp(rounds: number): Promise<void> {
    const all = this.readers.map((_, k) => k);
    let missing = all.length;
    for (let attempt = 0; attempt < 30 && missing > 0; attempt++) {
      for (const k of all) this.swipe(k);
      missing = await this.drain(2000);
    }
    if (missing > 0) throw new Error(`${missing} readers never answered a swipe`);
    await this.openLoop({ readers: all, perSec: 200, minReads: rounds * all.length, minMs: 0, maxMs: 60_000 });
    missing = await this.drain(10_000);
    if (missing > 0) throw new Error(`warm-up: ${missing} swipes got no pulse`);
    this.unexpected = 0;
  }

  async close(): Promise<void> {
    for (const fd of this.fds) closeSync(fd);
    await this.sub.endAsync(true);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const at = process.hrtime.bigint();
    const k = this.doorOfTopic.get(topic);
    if (k === undefined) return;
    const t0 = this.pending[k]!.shift();
    const sample = t0 === undefined ? null : Number(at - t0);
    if (sample === null) {
      this.unexpected++;
    } else {
      this.samples.push(sample);
      this.outstanding--;
    }
    // Ack as the firmware does, after the arrival is stamped, so the gateway handles acks as on a site.
    try {
      const command = PulseCommand.parse(payload);
      if (sample !== null && sample > this.commandTtlMs * 1e6 && command.expiresAt > Date.now()) this.lateOpens++;
      this.sub.publish(this.ackTopics[k]!, new DoorAck(command.id, 'executed', Date.now()).serialize(), { qos: 1 });
    } catch {
      // not a command the firmware would take: nothing to ack
    }
  }
}
