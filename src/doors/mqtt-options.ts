import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Store, type IClientOptions, type MqttClient } from 'mqtt';
import type { Config } from '../config/schema.js';

/** The link's settings; the operator commands over MQTT are the events part's (events/command-bridge.ts). */
export type MqttConfig = Omit<Config['mqtt'], 'commands'>;
/** mqtt-packet's Packet, taken from mqtt.js' own signature rather than a transitive import. */
type Packet = Parameters<Store['put']>[0];

/**
 * mqtt.js' outgoing store, minus the replay. mqtt.js re-sends every unacknowledged QoS 1
 * PUBLISH after a reconnect, even with a clean session; for an unlock that is exactly the
 * "executed late" failure we must not have. The firmware would drop it by `expiresAt` and a
 * v5 broker by message expiry (but a re-sent packet restarts the broker's expiry clock), so
 * the gateway simply never replays: an unlock whose PUBACK was lost is reported missing, not
 * sent again. Packets are still stored while in flight because mqtt.js needs them for PUBACK.
 */
export class NoReplayStore extends Store {
  private readonly inFlight = new Set<number>();
  dropped = 0;

  override put(packet: Packet, cb: (err?: Error) => void): this {
    if (packet.messageId !== undefined) this.inFlight.add(packet.messageId);
    return super.put(packet, cb);
  }

  override del(packet: Pick<Packet, 'messageId'>, cb: (err?: Error, packet?: Packet) => void): this {
    if (packet.messageId !== undefined) this.inFlight.delete(packet.messageId);
    return super.del(packet, cb);
  }

  /**
   * Call on every connection loss: forgets the in-flight packets and fails their callbacks, so
   * the next CONNACK has nothing to replay and a later end() does not wait for PUBACKs that
   * can no longer come. Returns how many unlocks were abandoned.
   */
  abandonInFlight(client: Pick<MqttClient, 'outgoing'>): number {
    let abandoned = 0;
    for (const messageId of [...this.inFlight]) {
      abandoned += 1;
      const pending = client.outgoing[messageId];
      delete client.outgoing[messageId];
      this.del({ messageId }, () => undefined);
      pending?.cb?.(new Error('connection lost; not replayed'));
    }
    this.dropped += abandoned;
    return abandoned;
  }

  /** Called by mqtt.js right after CONNACK to replay in-flight packets: a safety net, normally empty. */
  override createStream(): ReturnType<Store['createStream']> {
    for (const messageId of [...this.inFlight]) {
      this.dropped += 1;
      this.del({ messageId }, () => undefined);
    }
    return super.createStream();
  }
}

export interface ClientOptionsInput {
  mqtt: MqttConfig;
  siteId: string;
  protocolVersion: 4 | 5;
  password?: string;
  will: { topic: string; payload: string };
  reconnectPeriodMs: number;
  outgoingStore: NoReplayStore;
  readFile?: (path: string) => Buffer;
}

/** mqtt.js options from the config section: auth, TLS files, will, no offline queueing. */
// No parameters: a call with arguments then materialises nothing.
function ignoreTrace(): void {}

export function buildClientOptions(input: ClientOptionsInput): IClientOptions {
  const { mqtt: cfg } = input;
  const readFile = input.readFile ?? ((path: string) => readFileSync(path));
  const password = input.password ?? cfg.password ?? (cfg.passwordFile ? readFile(cfg.passwordFile).toString('utf8').trim() : undefined);
  const options: IClientOptions = {
    protocolVersion: input.protocolVersion,
    // A random suffix by default: two processes with one client id would kick each other off
    // the broker in a loop. Sites that key ACLs on client id set mqtt.clientId explicitly.
    clientId: cfg.clientId ?? `lintel-${input.siteId}-${randomBytes(4).toString('hex')}`,
    clean: true,
    keepalive: cfg.keepaliveSec,
    reconnectPeriod: input.reconnectPeriodMs,
    connectTimeout: 10_000,
    // Nothing is queued while disconnected: pulse() refuses instead (see door-relay.ts).
    queueQoSZero: false,
    resubscribe: false,
    outgoingStore: input.outgoingStore,
    will: { topic: input.will.topic, payload: Buffer.from(input.will.payload), qos: 1, retain: true },
  };
  // MQTT.js traces every packet through the `debug` package, whose disabled logger still builds
  // a rest-arguments array per call: ~10 of them per unlock and ack, about a tenth of the main
  // thread's allocation under load (bench/hardening.ts, (c)), i.e. more young-generation pauses
  // on the badge path. A no-op takes the same calls for free; DEBUG=mqttjs* still traces.
  if (!/mqttjs/.test(process.env.DEBUG ?? '')) options.log = ignoreTrace;
  if (cfg.username !== undefined) options.username = cfg.username;
  if (password !== undefined) options.password = password;
  if (cfg.tls) {
    if (cfg.tls.caFile) options.ca = readFile(cfg.tls.caFile);
    if (cfg.tls.certFile) options.cert = readFile(cfg.tls.certFile);
    if (cfg.tls.keyFile) options.key = readFile(cfg.tls.keyFile);
    options.rejectUnauthorized = cfg.tls.rejectUnauthorized;
  }
  return options;
}

/** The broker URL as it may appear in logs and on the status page: no user:password@. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = '';
      parsed.password = '';
    }
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '[unparseable url]';
  }
}

/**
 * Nagle's algorithm holds a small write while an earlier one is unacknowledged: the PUBACK we
 * send for a door's ack, say, until the broker's delayed ACK (tens of ms). An unlock must not
 * wait behind it. Each reconnect builds a new socket, so this runs on every CONNACK.
 */
export function noNagle(client: MqttClient): void {
  (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
}

/**
 * mqtt-packet corks the socket around each packet and uncorks it on process.nextTick. On the
 * badge path that tick comes only after the whole serial stream stack the read arrived on has
 * unwound (~50 µs with cold caches), and all that time the unlock sits in our buffer. The
 * packet is complete when publish() returns, so it is sent now; the later uncork finds nothing.
 */
export function sendNow(client: MqttClient): void {
  const stream = client.stream as { writableCorked?: number; uncork?: () => void } | undefined;
  while (stream?.uncork && (stream.writableCorked ?? 0) > 0) stream.uncork();
}

