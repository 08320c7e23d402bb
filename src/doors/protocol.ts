import { z } from 'zod';

/**
 * The door relay protocol (firmware-protocol/README.md is the normative text; the JSON
 * Schemas in firmware-protocol/schemas/ are mirrored here field for field, and a test checks
 * both against the same vectors). Pure: no I/O, no clock.
 */

export const PROTOCOL_VERSION = 1;
/** Anything longer is not one of our messages; parsing it would only cost memory. */
export const MAX_PAYLOAD_BYTES = 1024;
/** A command may live at most this long: bounds both a replay window and the de-dup cache. */
export const MAX_COMMAND_TTL_MS = 60_000;

export type ProtocolErrorCode = 'too-large' | 'not-json' | 'schema' | 'semantic';

/** Every malformed input ends here, so callers can count and log by `code` without string matching. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const epochMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const commandIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
const version = z.literal(PROTOCOL_VERSION);

// Commands are strict (unknown field → invalid): firmware must never execute a command that
// carries a meaning it does not understand. Door → gateway messages tolerate extra fields
// (e.g. a future "rssi") so newer firmware does not go dark on an older gateway.
export const pulseCommandSchema = z.strictObject({
  v: version,
  type: z.literal('pulse'),
  id: commandIdSchema,
  channel: z.number().int().min(1).max(64),
  pulseMs: z.number().int().min(100).max(30_000),
  issuedAt: epochMs,
  expiresAt: epochMs,
});

export const ACK_RESULTS = ['executed', 'expired', 'duplicate', 'rejected'] as const;
export type AckResult = (typeof ACK_RESULTS)[number];

export const doorAckSchema = z.object({
  v: version,
  id: commandIdSchema,
  result: z.enum(ACK_RESULTS),
  reason: z.string().min(1).max(128).optional(),
  at: epochMs,
});

export type RelayPosition = 'locked' | 'unlocked';
export type ContactPosition = 'closed' | 'open' | 'unknown';

export const doorStateSchema = z.object({
  v: version,
  online: z.boolean(),
  relay: z.enum(['locked', 'unlocked']),
  contact: z.enum(['closed', 'open', 'unknown']),
  at: epochMs,
  fw: z.string().regex(/^[0-9]{1,5}\.[0-9]{1,5}\.[0-9]{1,5}$/).optional(),
});

export const gatewayStatusSchema = z.object({
  v: version,
  state: z.enum(['online', 'offline']),
  at: epochMs,
});

/** Size check and JSON decode shared by every message: the first two ways a payload can fail. */
export function decodeJson(input: Buffer | string): unknown {
  const bytes = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (bytes > MAX_PAYLOAD_BYTES) throw new ProtocolError('too-large', `payload of ${bytes} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProtocolError('not-json', 'payload is not JSON');
  }
}

function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ProtocolError('schema', `${what}: ${detail}`);
  }
  return result.data;
}

/** MQTT 5 message expiry for a command lifetime: whole seconds, rounded up so the broker never drops it early, ≥ 1. */
export function messageExpirySec(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/**
 * Command ids: a random prefix drawn once per process (72 bits, base64url) and a sequence
 * number. Unique across restarts without a random draw per unlock (randomUUID was ~10 µs of
 * the badge path with cold caches); the firmware only needs uniqueness, for its de-dup cache.
 */
export class CommandIds {
  private seq = 0;
  constructor(private readonly prefix: string) {
    if (!/^[A-Za-z0-9_-]{8,40}$/.test(prefix)) throw new Error('command id prefix must be 8-40 characters of A-Z a-z 0-9 _ -');
  }

  next(): string {
    this.seq += 1;
    return `${this.prefix}-${this.seq.toString(36)}`;
  }
}

/** gateway → door: pulse the relay on `channel` for `pulseMs`, unless `expiresAt` has passed. */
export class PulseCommand {
  readonly v = PROTOCOL_VERSION;
  readonly type = 'pulse';
  constructor(
    readonly id: string,
    readonly channel: number,
    readonly pulseMs: number,
    readonly issuedAt: number,
    readonly expiresAt: number,
  ) {}

  static parse(input: Buffer | string): PulseCommand {
    const m = validate(pulseCommandSchema, decodeJson(input), 'pulse command');
    // Cross-field rules JSON Schema cannot express; the README lists them next to the schema.
    if (m.expiresAt <= m.issuedAt) throw new ProtocolError('semantic', 'pulse command: expiresAt must be after issuedAt');
    if (m.expiresAt - m.issuedAt > MAX_COMMAND_TTL_MS) {
      throw new ProtocolError('semantic', `pulse command: lifetime exceeds ${MAX_COMMAND_TTL_MS} ms`);
    }
    return new PulseCommand(m.id, m.channel, m.pulseMs, m.issuedAt, m.expiresAt);
  }

  /**
   * Field for field what JSON.stringify of the object gives (a test holds them equal), built
   * directly: on the badge path, with cold caches, stringify of a fresh object cost ~15 µs.
   */
  serialize(): string {
    const { v, type, id, channel, pulseMs, issuedAt, expiresAt } = this;
    return `{"v":${v},"type":"${type}","id":${JSON.stringify(id)},"channel":${channel},"pulseMs":${pulseMs},"issuedAt":${issuedAt},"expiresAt":${expiresAt}}`;
  }

  /** MQTT 5 message expiry for this command (see messageExpirySec). */
  messageExpiryIntervalSec(): number {
    return messageExpirySec(this.expiresAt - this.issuedAt);
  }
}

/** door → gateway: what the firmware did with command `id`. */
export class DoorAck {
  readonly v = PROTOCOL_VERSION;
  constructor(
    readonly id: string,
    readonly result: AckResult,
    readonly at: number,
    readonly reason?: string,
  ) {}

  static parse(input: Buffer | string): DoorAck {
    const m = validate(doorAckSchema, decodeJson(input), 'door ack');
    return new DoorAck(m.id, m.result, m.at, m.reason);
  }

  serialize(): string {
    const { v, id, result, reason, at } = this;
    return JSON.stringify(reason === undefined ? { v, id, result, at } : { v, id, result, reason, at });
  }
}

/** door → gateway, retained: the controller's view of its relay and contact sensor. */
export class DoorState {
  readonly v = PROTOCOL_VERSION;
  constructor(
    readonly online: boolean,
    readonly relay: RelayPosition,
    readonly contact: ContactPosition,
    readonly at: number,
    readonly fw?: string,
  ) {}

  static parse(input: Buffer | string): DoorState {
    const m = validate(doorStateSchema, decodeJson(input), 'door state');
    return new DoorState(m.online, m.relay, m.contact, m.at, m.fw);
  }

  serialize(): string {
    const { v, online, relay, contact, at, fw } = this;
    return JSON.stringify(fw === undefined ? { v, online, relay, contact, at } : { v, online, relay, contact, at, fw });
  }
}

/** gateway → everyone, retained: whether the gateway is connected (its last-will says offline). */
export class GatewayStatus {
  readonly v = PROTOCOL_VERSION;
  constructor(
    readonly state: 'online' | 'offline',
    readonly at: number,
  ) {}

  static parse(input: Buffer | string): GatewayStatus {
    const m = validate(gatewayStatusSchema, decodeJson(input), 'gateway status');
    return new GatewayStatus(m.state, m.at);
  }

  serialize(): string {
    const { v, state, at } = this;
    return JSON.stringify({ v, state, at });
  }
}

export type DoorTopicKind = 'cmd' | 'ack' | 'state';

export interface Topics {
  readonly base: string;
  cmd(doorId: string): string;
  ack(doorId: string): string;
  state(doorId: string): string;
  readonly gatewayStatus: string;
  /** Wildcard filters the gateway subscribes to. */
  readonly allAcks: string;
  readonly allStates: string;
  /** Inverse of cmd/ack/state; null for anything that is not a door topic of this site. */
  parse(topic: string): { doorId: string; kind: DoorTopicKind } | null;
}

const SEGMENT = /^[^/#+]+$/;
/** The prefix may span levels ("acme/lintel") but no empty level and no wildcard. */
const PREFIX = /^[^/#+]+(\/[^/#+]+)*$/;

/** `<prefix>/<site>/doors/<doorId>/{cmd,ack,state}` and `<prefix>/<site>/gateway/status`. */
export function topics(prefix: string, site: string): Topics {
  if (!PREFIX.test(prefix)) throw new ProtocolError('semantic', `topic prefix "${prefix}" has an empty level or a wildcard`);
  if (!SEGMENT.test(site)) throw new ProtocolError('semantic', `site id "${site}" is not a valid topic segment`);
  const base = `${prefix}/${site}`;
  const door = (doorId: string, kind: DoorTopicKind): string => {
    if (!SEGMENT.test(doorId)) throw new ProtocolError('semantic', `door id "${doorId}" is not a valid topic segment`);
    return `${base}/doors/${doorId}/${kind}`;
  };
  const doorsPrefix = `${base}/doors/`;
  return {
    base,
    cmd: (d) => door(d, 'cmd'),
    ack: (d) => door(d, 'ack'),
    state: (d) => door(d, 'state'),
    gatewayStatus: `${base}/gateway/status`,
    allAcks: `${base}/doors/+/ack`,
    allStates: `${base}/doors/+/state`,
    parse(topic) {
      if (!topic.startsWith(doorsPrefix)) return null;
      const rest = topic.slice(doorsPrefix.length).split('/');
      const [doorId, kind] = rest;
      if (rest.length !== 2 || doorId === undefined || !SEGMENT.test(doorId)) return null;
      if (kind !== 'cmd' && kind !== 'ack' && kind !== 'state') return null;
      return { doorId, kind };
    },
  };
}
