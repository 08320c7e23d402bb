import type { AreaDef } from '../model.js';

/*
 * Anti-passback: a person who badged into an area must badge out of it before badging in
 * again (and the other way round), so one card cannot be passed back through the door to let
 * a second person in. Pure: no clock object, no I/O; every time is an argument.
 *
 * Positions are kept IN MEMORY ONLY. A restart forgets them all: everyone's position is then
 * "unknown", which is always `ok` — the first read after a restart is never a violation, and
 * the next granted read that opens a door records the position again. That is the deliberate
 * trade: anti-passback is a rule about people's paths, not a lock, and a gateway that denied
 * everyone after a crash because it lost track would be a worse failure than a missed passback.
 *
 * Memory: a position is one Map entry (person id → since) in the area it belongs to, only for
 * people who went through a reader of an area whose anti-passback is not `off`. About 60 bytes
 * a person and area on 64-bit Node 20 (a Map entry, its hash bucket and a boxed double for the
 * millisecond timestamp: see test/access/antipassback.test.ts, which measures it). Each area
 * holds at most `maxPositionsPerArea` (100,000 by default: ~6 MB); past that the oldest
 * position is dropped, which makes that person "unknown" (ok), never denied.
 */

/**
 * The latest reset instant of `area` at or before `at` (ms since epoch), or -Infinity when
 * there was none. The caller owns the time zone: it turns `area.resetAt` (local minutes) into
 * instants, exactly across DST, so that no zone arithmetic lives here. Called only for areas
 * whose `resetAt` is not null, once per area a checked person has a position in.
 */
export type LastResetBefore = (area: AreaDef, at: number) => number;

export type PassbackVerdict = 'ok' | 'violation';

/** Why a read is a violation, for the caller's event and log line. One frozen object per (area, reader role): nothing is allocated per read. */
export interface PassbackViolation {
  readonly area: string;
  /** soft: the caller logs and grants; hard: the caller denies with reason `antipassback`. */
  readonly mode: 'soft' | 'hard';
  /** in: the person is already inside; out: the person is already outside. */
  readonly direction: 'in' | 'out';
}

export interface AntiPassbackOptions {
  lastResetBefore: LastResetBefore;
  maxPositionsPerArea?: number;
}

export const DEFAULT_MAX_POSITIONS_PER_AREA = 100_000;

/**
 * One area's positions. A person is in at most one of the two maps. Each map is in commit
 * order (a commit deletes before it sets), so the oldest position is always the first entry:
 * eviction and the sweep after a reset cost only what they remove.
 */
class AreaPositions {
  readonly inside = new Map<number, number>();
  readonly outside = new Map<number, number>();
  constructor(public def: AreaDef) {}

  get size(): number {
    return this.inside.size + this.outside.size;
  }

  forget(personId: number): void {
    this.inside.delete(personId);
    this.outside.delete(personId);
  }

  /** Returns how many positions were dropped to stay within `cap`. */
  place(personId: number, entering: boolean, at: number, cap: number): number {
    this.forget(personId);
    (entering ? this.inside : this.outside).set(personId, at);
    let dropped = 0;
    while (this.size > cap && this.dropOldest()) dropped += 1;
    return dropped;
  }

  private dropOldest(): boolean {
    const firstIn = this.inside.entries().next();
    const firstOut = this.outside.entries().next();
    if (!firstIn.done && (firstOut.done || firstIn.value[1] <= firstOut.value[1])) return this.inside.delete(firstIn.value[0]);
    if (!firstOut.done) return this.outside.delete(firstOut.value[0]);
    return false;
  }

  /** Drops positions older than `before`; stops at the first newer one (commit order). */
  dropBefore(before: number): number {
    let dropped = 0;
    for (const map of [this.inside, this.outside]) {
      for (const [personId, since] of map) {
        if (since >= before) break;
        map.delete(personId);
        dropped += 1;
      }
    }
    return dropped;
  }
}

interface ReaderRole {
  readonly positions: AreaPositions;
  readonly entering: boolean;
  readonly violation: PassbackViolation;
}

export class AntiPassbackTracker {
  private readonly lastResetBefore: LastResetBefore;
  private readonly cap: number;
  private areas = new Map<string, AreaPositions>();
  private roles = new Map<string, readonly ReaderRole[]>();
  /** Positions dropped because an area was full (for the status page: a cap set too low shows). */
  evicted = 0;

  constructor(areas: readonly AreaDef[], opts: AntiPassbackOptions) {
    this.lastResetBefore = opts.lastResetBefore;
    this.cap = opts.maxPositionsPerArea ?? DEFAULT_MAX_POSITIONS_PER_AREA;
    if (!Number.isInteger(this.cap) || this.cap < 1) throw new Error(`maxPositionsPerArea must be a positive integer, got ${this.cap}`);
    this.setAreas(areas);
  }

  /**
   * A reload's areas. Positions of an area that keeps its id are kept (a reader moved from one
   * area to another must not make everyone inside "unknown" for no reason); areas removed, or
   * switched to `off`, forget theirs.
   */
  setAreas(areas: readonly AreaDef[]): void {
    const next = new Map<string, AreaPositions>();
    const roles = new Map<string, ReaderRole[]>();
    for (const def of areas) {
      if (def.antiPassback === 'off') continue;
      const both = def.inReaders.filter((r) => def.outReaders.includes(r));
      if (both.length > 0) throw new Error(`area ${def.id}: reader ${both[0]} is both an in and an out reader`);
      const positions = this.areas.get(def.id) ?? new AreaPositions(def);
      positions.def = def;
      next.set(def.id, positions);
      const mode = def.antiPassback;
      for (const [readers, entering] of [[def.inReaders, true], [def.outReaders, false]] as const) {
        const violation: PassbackViolation = Object.freeze({ area: def.id, mode, direction: entering ? 'in' : 'out' });
        for (const readerId of readers) {
          const list = roles.get(readerId) ?? [];
          list.push({ positions, entering, violation });
          roles.set(readerId, list);
        }
      }
    }
    this.areas = next;
    this.roles = roles;
  }

  /** Whether a granted read at this reader would break anti-passback. Unknown position: ok. */
  check(personId: number, readerId: string, at: number): PassbackVerdict {
    return this.violation(personId, readerId, at) === null ? 'ok' : 'violation';
  }

  /**
   * The violation this read would be, or null. Where a reader belongs to several areas and more
   * than one is violated, a hard one wins: the caller must deny if any area says so.
   */
  violation(personId: number, readerId: string, at: number): PassbackViolation | null {
    const roles = this.roles.get(readerId);
    if (roles === undefined) return null;
    let found: PassbackViolation | null = null;
    for (const role of roles) {
      const { positions, entering } = role;
      const since = (entering ? positions.inside : positions.outside).get(personId);
      if (since === undefined || !this.fresh(positions.def, since, at)) continue;
      if (role.violation.mode === 'hard') return role.violation;
      found ??= role.violation;
    }
    return found;
  }

  /**
   * After a granted read actually opened the door (the relay pulse was sent): the person is now
   * inside (in reader) or outside (out reader) of each area the reader belongs to. A denied read,
   * or one whose pulse could not be sent, must not be committed: the person did not pass.
   */
  commit(personId: number, readerId: string, at: number): void {
    const roles = this.roles.get(readerId);
    if (roles === undefined) return;
    for (const { positions, entering } of roles) this.evicted += positions.place(personId, entering, at, this.cap);
  }

  /** Operator forgive: the person's position becomes unknown in every area, so their next read is ok. */
  forgive(personId: number): void {
    for (const positions of this.areas.values()) positions.forget(personId);
  }

  forgiveAll(): void {
    for (const positions of this.areas.values()) {
      positions.inside.clear();
      positions.outside.clear();
    }
  }

  /**
   * Frees the memory of positions made stale by a reset (check() already ignores them). Cheap:
   * it stops at the first position newer than the reset. A read whose time is older than one
   * committed before it (a visitor read that waited for the platform) can leave a stale entry
   * behind a fresh one until a later sweep; it is still ignored by check().
   */
  sweep(at: number): number {
    let dropped = 0;
    for (const positions of this.areas.values()) {
      if (positions.def.resetAt === null) continue;
      dropped += positions.dropBefore(this.lastResetBefore(positions.def, at));
    }
    return dropped;
  }

  /** Positions held, per area, for the status page. */
  sizes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, positions] of this.areas) out[id] = positions.size;
    return out;
  }

  private fresh(area: AreaDef, since: number, at: number): boolean {
    return area.resetAt === null || since >= this.lastResetBefore(area, at);
  }
}
