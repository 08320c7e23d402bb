import type { AccessModel, Membership, ScheduleStates } from './model.js';

/*
 * Standing access from access-group memberships, derived without a database: a membership of
 * a group opens every door of every zone of the group, each under that zone's schedule,
 * between the membership's from and to. The index expands a person's memberships when the
 * person is put, so a decision reads windows only and never walks groups or zones.
 */

/** One expanded window: a door, its schedule slot (0 = always), the membership's bounds. */
export interface MembershipWindow {
  readonly door: string;
  readonly slot: number;
  readonly from: number;
  readonly to: number;
}

/** What a member of a group may do beyond opening doors, for the instants of the membership. */
export interface PrivilegeSpan {
  readonly from: number;
  readonly to: number;
  readonly lockdownOverride: boolean;
  readonly firstPersonIn: boolean;
}

interface CompiledGroup {
  /** Door and slot pairs, deduplicated (two zones may share a door under one schedule). */
  readonly doors: readonly { readonly door: string; readonly slot: number }[];
  readonly lockdownOverride: boolean;
  readonly firstPersonIn: boolean;
}

/** The groups of a model with their zones resolved to doors and their schedules to slots. */
export type CompiledGroups = ReadonlyMap<string, CompiledGroup>;

/** Resolves zones and schedules once per model, so that expanding a person costs no lookups by zone. */
export function compileGroups(model: Pick<AccessModel, 'zones' | 'groups'>, states: Pick<ScheduleStates, 'slotOf'>): CompiledGroups {
  const zoneDoors = new Map(model.zones.map((z) => [z.id, z.doors]));
  const groups = new Map<string, CompiledGroup>();
  for (const g of model.groups) {
    const seen = new Set<string>();
    const doors: { door: string; slot: number }[] = [];
    for (const gz of g.zones) {
      const slot = states.slotOf(gz.schedule);
      for (const door of zoneDoors.get(gz.zone) ?? []) {
        const key = `${door}\u0000${slot}`;
        if (seen.has(key)) continue;
        seen.add(key);
        doors.push({ door, slot });
      }
    }
    groups.set(g.id, { doors, lockdownOverride: g.lockdownOverride, firstPersonIn: g.firstPersonIn });
  }
  return groups;
}

/**
 * The windows a person's memberships open. A membership of a group the model no longer has
 * opens nothing (fail closed: the config is validated on load, so such a row is a group that
 * was removed while people still belonged to it). Empty memberships (to ≤ from) open nothing.
 * The same door, slot and bounds reached through two groups is one window.
 */
export function expandMemberships(memberships: readonly Membership[], groups: CompiledGroups): MembershipWindow[] {
  const windows: MembershipWindow[] = [];
  // One membership (nearly everyone) cannot repeat a window: its group's doors are distinct
  // already (compileGroups). Only two or more need the set, which costs a string per window.
  const seen = memberships.length > 1 ? new Set<string>() : null;
  for (const m of memberships) {
    if (!(m.to > m.from)) continue;
    const group = groups.get(m.group);
    if (group === undefined) continue;
    for (const { door, slot } of group.doors) {
      if (seen !== null) {
        const key = `${door}\u0000${slot}\u0000${m.from}\u0000${m.to}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      windows.push({ door, slot, from: m.from, to: m.to });
    }
  }
  return windows;
}

/** The memberships that carry a privilege (lockdown override, first-person-in); [] for nearly everyone. */
export function privilegesOf(memberships: readonly Membership[], groups: CompiledGroups): PrivilegeSpan[] {
  const spans: PrivilegeSpan[] = [];
  for (const m of memberships) {
    const group = groups.get(m.group);
    if (group === undefined || !(m.to > m.from) || (!group.lockdownOverride && !group.firstPersonIn)) continue;
    spans.push({ from: m.from, to: m.to, lockdownOverride: group.lockdownOverride, firstPersonIn: group.firstPersonIn });
  }
  return spans;
}

/**
 * A stable fingerprint of everything in a model that the index derives from (FNV-1a over its
 * canonical JSON): a snapshot made under another model holds other windows and must not be
 * loaded. Not cryptographic; it only tells models apart.
 */
export function modelHash(model: AccessModel): string {
  const text = JSON.stringify(model);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
  }
  return `${(h1 >>> 0).toString(16).padStart(8, '0')}${(h2 >>> 0).toString(16).padStart(8, '0')}`;
}
