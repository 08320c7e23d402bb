import type { AccessModel, ScheduleDef } from '../access/model.js';
import { accessModelOf, type AccessModelInput } from './access-model.js';
import { holidayOn, localTimeAt, scheduleStateAt } from './schedule-now.js';
import { formatClock, WEEKDAYS } from './time-of-day.js';

/*
 * What `lintel check-config` says about the access model: for each access group, the doors it
 * opens and whether each is open at this instant, and which doors stand unlocked on their
 * schedule. Built from the compiled AccessModel (not the YAML), so it shows what the gateway
 * would decide, with the clock passed in.
 */

export interface DoorRoute {
  readonly zone: string;
  /** null: at any time. */
  readonly schedule: string | null;
  readonly open: boolean;
  /** The interval holding it open now, "07:00-19:00"; null when shut or unscheduled. */
  readonly interval: string | null;
}

export interface GroupDoorNow {
  readonly door: string;
  /** Open through any of its routes (a door in two of the group's zones opens on either schedule). */
  readonly openNow: boolean;
  readonly via: readonly DoorRoute[];
}

export interface GroupNow {
  readonly id: string;
  readonly lockdownOverride: boolean;
  readonly firstPersonIn: boolean;
  readonly doors: readonly GroupDoorNow[];
}

export interface ScheduledDoorNow {
  readonly door: string;
  readonly schedule: string;
  readonly scheduleOpen: boolean;
  readonly interval: string | null;
  /** Even while the schedule is open, the door waits for a firstPersonIn member's granted read. */
  readonly firstPersonIn: boolean;
}

export interface AccessReport {
  readonly timeZone: string;
  /** The site's wall clock: "2026-12-02 17:23". */
  readonly localTime: string;
  readonly weekday: string;
  readonly holiday: string | null;
  readonly groups: readonly GroupNow[];
  readonly scheduledDoors: readonly ScheduledDoorNow[];
}

/** The report of a validated config at `at` (ms since epoch). */
export function accessReportOf(config: AccessModelInput, at: number): AccessReport {
  return accessReportAt(accessModelOf(config), at);
}

export function accessReportAt(model: AccessModel, at: number): AccessReport {
  const schedules = new Map(model.schedules.map((s) => [s.id, s]));
  const state = (id: string | null) => (id === null ? { open: true, interval: null } : scheduleStateAt(scheduleOf(schedules, id), model.holidays, model.timeZone, at));
  const zones = new Map(model.zones.map((z) => [z.id, z]));

  const groups = model.groups.map((g): GroupNow => {
    const routes = new Map<string, DoorRoute[]>();
    for (const entry of g.zones) {
      const { open, interval } = state(entry.schedule);
      for (const door of zones.get(entry.zone)?.doors ?? []) {
        const list = routes.get(door) ?? [];
        list.push({ zone: entry.zone, schedule: entry.schedule, open, interval });
        routes.set(door, list);
      }
    }
    const doors = [...routes].map(([door, via]) => ({ door, openNow: via.some((r) => r.open), via }));
    return { id: g.id, lockdownOverride: g.lockdownOverride, firstPersonIn: g.firstPersonIn, doors };
  });

  const scheduledDoors = model.doors.flatMap((d): ScheduledDoorNow[] => {
    if (d.mode !== 'scheduled-unlock' || d.unlockSchedule === null) return [];
    const { open, interval } = state(d.unlockSchedule);
    return [{ door: d.id, schedule: d.unlockSchedule, scheduleOpen: open, interval, firstPersonIn: d.firstPersonIn }];
  });

  const local = localTimeAt(at, model.timeZone);
  return {
    timeZone: model.timeZone,
    localTime: `${local.date} ${formatClock(local.minute)}`,
    weekday: WEEKDAYS[local.weekday]!,
    holiday: holidayOn(local.date, model.holidays)?.name ?? null,
    groups,
    scheduledDoors,
  };
}

function scheduleOf(schedules: ReadonlyMap<string, ScheduleDef>, id: string): ScheduleDef {
  const s = schedules.get(id);
  if (!s) throw new Error(`unknown schedule "${id}" (the model was not validated)`);
  return s;
}

/** The report as check-config prints it: one line for the clock, then each group and its doors. */
export function formatAccessReport(r: AccessReport): string[] {
  const day = r.weekday.charAt(0).toUpperCase() + r.weekday.slice(1);
  const lines = [`time zone ${r.timeZone}: now ${day} ${r.localTime}${r.holiday === null ? '' : ` (holiday: ${r.holiday})`}`];
  if (r.groups.length === 0 && r.scheduledDoors.length === 0) return lines;
  const width = Math.max(0, ...r.groups.flatMap((g) => g.doors.map((d) => d.door.length)), ...r.scheduledDoors.map((d) => d.door.length));
  for (const g of r.groups) {
    const flags = [g.lockdownOverride ? 'lockdown override' : '', g.firstPersonIn ? 'first person in' : ''].filter((f) => f !== '');
    lines.push(`access group ${g.id}${flags.length > 0 ? ` (${flags.join(', ')})` : ''}: ${g.doors.length} door${g.doors.length === 1 ? '' : 's'}`);
    for (const d of g.doors) {
      const via = d.via.map((v) => `${v.zone} ${v.schedule === null ? 'at any time' : `on ${v.schedule}${v.interval === null ? '' : ` ${v.interval}`}`}`);
      lines.push(`  ${d.door.padEnd(width)}  ${d.openNow ? 'open now  ' : 'closed now'}  ${via.join('; ')}`);
    }
  }
  if (r.scheduledDoors.length > 0) lines.push('doors unlocked on a schedule:');
  for (const d of r.scheduledDoors) {
    // First-person-in: check-config cannot know whether someone has badged in yet today.
    const now = !d.scheduleOpen ? 'locked now  ' : d.firstPersonIn ? 'in hours now' : 'unlocked now';
    const why = `on ${d.schedule}${d.interval === null ? '' : ` ${d.interval}`}${d.firstPersonIn ? ', unlocks once a first-person-in member badges' : ''}`;
    lines.push(`  ${d.door.padEnd(width)}  ${now}  ${why}`);
  }
  return lines;
}
