import { commandIdSchema, decodeJson, ProtocolError, PulseCommand, type AckResult } from './protocol.js';

/**
 * What door firmware must do with a message on its `cmd` topic, as pure functions: the
 * reference simulator runs them, and the test vectors in firmware-protocol/vectors/ are
 * checked against them, so the README, the vectors and the simulator cannot drift apart.
 */

/**
 * How far ahead of the door's clock a command's `issuedAt` may be before the door refuses it as
 * `clock-skew`. NTP on a LAN is good to a few ms; this absorbs a bad sync. It is never a grace
 * period on `expiresAt`: a door whose clock lags the gateway's by more than this refuses every
 * fresh command instead of executing late ones.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 500;
/** Enough for a minute of back-to-back unlocks at the maximum command lifetime. */
export const DEDUP_CAPACITY = 256;

/**
 * Ids of executed commands, each kept until its expiresAt. Nothing longer is needed: after that
 * moment the expiry check rejects a redelivery before de-dup is consulted.
 */
export class DedupCache {
  private readonly expiryById = new Map<string, number>();

  constructor(private readonly capacity = DEDUP_CAPACITY) {}

  has(id: string, now: number): boolean {
    this.evict(now);
    return this.expiryById.has(id);
  }

  remember(id: string, expiresAt: number, now: number): void {
    this.evict(now);
    if (this.expiryById.size >= this.capacity) {
      // Full of live ids: drop the one closest to expiry, the least likely to be redelivered.
      let oldest: [string, number] | null = null;
      for (const entry of this.expiryById) if (oldest === null || entry[1] < oldest[1]) oldest = entry;
      if (oldest) this.expiryById.delete(oldest[0]);
    }
    this.expiryById.set(id, expiresAt);
  }

  get size(): number {
    return this.expiryById.size;
  }

  private evict(now: number): void {
    for (const [id, until] of this.expiryById) if (until < now) this.expiryById.delete(id);
  }
}

/**
 * The relay: locked until a pulse, then unlocked until a deadline. A pulse while unlocked
 * extends to max(remaining, pulseMs) — it never shortens an unlock someone is walking through.
 */
export class RelayStateMachine {
  private unlockedUntil: number | null = null;

  /** Returns the (possibly extended) relock deadline. */
  pulse(now: number, pulseMs: number): number {
    this.tick(now);
    const requested = now + pulseMs;
    this.unlockedUntil = this.unlockedUntil === null ? requested : Math.max(this.unlockedUntil, requested);
    return this.unlockedUntil;
  }

  /** Relocks when the deadline has passed; returns true when this call changed the position. */
  tick(now: number): boolean {
    if (this.unlockedUntil !== null && now >= this.unlockedUntil) {
      this.unlockedUntil = null;
      return true;
    }
    return false;
  }

  position(now: number): 'locked' | 'unlocked' {
    this.tick(now);
    return this.unlockedUntil === null ? 'locked' : 'unlocked';
  }

  deadline(): number | null {
    return this.unlockedUntil;
  }
}

export interface CommandContext {
  payload: Buffer | string;
  /** The MQTT retain flag of the delivered PUBLISH. */
  retained: boolean;
  /** Firmware clock, ms since the epoch. */
  now: number;
  /** False until the first successful NTP sync since boot. */
  timeSynced: boolean;
  /** Relay outputs on this board: channels 1..channels exist. */
  channels: number;
  dedup: DedupCache;
}

export type FirmwareDecision =
  | { action: 'ignore'; why: 'retained' | 'unparseable' }
  | { action: 'ack'; id: string; result: AckResult; reason?: string; pulse: { channel: number; pulseMs: number } | null };

const reject = (id: string, reason: string): FirmwareDecision => ({ action: 'ack', id, result: 'rejected', reason, pulse: null });

/**
 * Decide, in the order the README specifies. Records the id of an executed command in `dedup`
 * (the only side effect), so calling this is the act of accepting the command.
 */
export function decideCommand(ctx: CommandContext): FirmwareDecision {
  // A retained unlock would open the door at every reconnect of the controller.
  if (ctx.retained) return { action: 'ignore', why: 'retained' };

  let command: PulseCommand;
  try {
    command = PulseCommand.parse(ctx.payload);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    const id = recoverId(ctx.payload);
    // Without a well-formed id there is nobody to answer: the gateway times the command out.
    return id === null ? { action: 'ignore', why: 'unparseable' } : reject(id, `invalid: ${err.code}`);
  }

  const { id } = command;
  if (!ctx.timeSynced) return reject(id, 'clock-not-synced');
  // THE guarantee of the protocol: past expiresAt on this door's clock, never executed. No
  // tolerance here — whatever delayed the command (a frozen broker, a slow link, a redelivery)
  // would otherwise get a door opened for someone who has walked away.
  if (ctx.now > command.expiresAt) return { action: 'ack', id, result: 'expired', pulse: null };
  if (command.issuedAt > ctx.now + CLOCK_SKEW_TOLERANCE_MS) return reject(id, 'clock-skew');
  if (ctx.dedup.has(id, ctx.now)) return { action: 'ack', id, result: 'duplicate', pulse: null };
  if (command.channel > ctx.channels) return reject(id, 'unknown-channel');

  ctx.dedup.remember(id, command.expiresAt, ctx.now);
  return { action: 'ack', id, result: 'executed', pulse: { channel: command.channel, pulseMs: command.pulseMs } };
}

/** The id of a command that failed validation, if it has a usable one (for a `rejected` ack). */
function recoverId(payload: Buffer | string): string | null {
  let value: unknown;
  try {
    value = decodeJson(payload);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || !('id' in value)) return null;
  const parsed = commandIdSchema.safeParse(value.id);
  return parsed.success ? parsed.data : null;
}
