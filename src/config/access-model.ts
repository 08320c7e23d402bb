import type { AccessModel, DayInterval, DoorPolicy, ScheduleDef } from '../access/model.js';
import type { ScheduleConfig } from './model-schema.js';
import type { Config, ResourceConfig } from './schema.js';
import { parseClock, parseInterval, parseWeekdays, WEEKDAYS } from './time-of-day.js';

/*
 * The validated YAML (Config) compiled into the policy core's AccessModel (src/access/model.ts):
 * strings become minutes, weekday keys become seven arrays Monday first, absent optionals become
 * their defaults. The core never sees the config schema; this is the one place that translates.
 * Everything here assumes a config that passed the schema (parseConfig): an interval that does
 * not parse here is a bug, and throws.
 */

export type AccessModelInput = Pick<Config, 'site' | 'doors' | 'schedules' | 'holidays' | 'zones' | 'accessGroups' | 'areas'>;

export function accessModelOf(config: AccessModelInput): AccessModel {
  return {
    timeZone: config.site.timeZone,
    schedules: Object.entries(config.schedules).map(([id, s]) => scheduleDefOf(id, s)),
    holidays: config.holidays.map((h) => ({ name: h.name, date: h.date })),
    zones: Object.entries(config.zones).map(([id, z]) => ({ id, doors: [...z.doors] })),
    groups: Object.entries(config.accessGroups).map(([id, g]) => ({
      id,
      zones: g.zones.map((z) => ({ zone: z.zone, schedule: z.schedule ?? null })),
      lockdownOverride: g.lockdownOverride,
      firstPersonIn: g.firstPersonIn,
    })),
    areas: Object.entries(config.areas).map(([id, a]) => ({
      id,
      inReaders: [...a.in],
      outReaders: [...a.out],
      antiPassback: a.antiPassback,
      resetAt: a.resetAt === undefined ? null : mustParse(parseClock(a.resetAt), a.resetAt),
    })),
    doors: config.doors.map(
      (d): DoorPolicy => ({ id: d.id, mode: d.mode ?? 'card', unlockSchedule: d.unlockSchedule ?? null, firstPersonIn: d.firstPersonIn ?? false }),
    ),
  };
}

export function scheduleDefOf(id: string, schedule: ScheduleConfig): ScheduleDef {
  const weekly: DayInterval[][] = WEEKDAYS.map(() => []);
  for (const [key, texts] of Object.entries(schedule.weekly)) {
    const days = parseWeekdays(key);
    if (days === null) throw new Error(`schedules.${id}.weekly.${key}: not a weekday key (the config was not validated)`);
    for (const day of days) weekly[WEEKDAYS.indexOf(day)]!.push(...intervalsOf(texts));
  }
  for (const day of weekly) day.sort((a, b) => a.from - b.from);
  return { id, weekly, holiday: intervalsOf(schedule.holidays).sort((a, b) => a.from - b.from) };
}

function intervalsOf(texts: readonly string[]): DayInterval[] {
  return texts.map((t) => mustParse(parseInterval(t), t));
}

function mustParse<T>(value: T | null, text: string): T {
  if (value === null) throw new Error(`"${text}" does not parse (the config was not validated)`);
  return value;
}

export type ResourceDoorsInput = Pick<Config, 'resources' | 'zones' | 'accessGroups'>;

/**
 * The doors a booking of the resource opens: its own `doors` and the doors of every zone of its
 * `accessGroups`, sorted, each once. The groups' schedules do not count: a booking grant is
 * bounded by the booking's window (model.ts). [] for a resource the config does not name.
 * Given the resource itself rather than its id, it skips the lookup (syncFromConfig walks them all).
 */
export function resourceDoors(config: ResourceDoorsInput, resource: string | ResourceConfig): string[] {
  const res = typeof resource === 'string' ? config.resources.find((r) => r.id === resource) : resource;
  if (!res) return [];
  const doors = new Set(res.doors);
  for (const groupId of res.accessGroups ?? []) {
    const group = Object.hasOwn(config.accessGroups, groupId) ? config.accessGroups[groupId] : undefined;
    for (const entry of group?.zones ?? []) {
      const zone = Object.hasOwn(config.zones, entry.zone) ? config.zones[entry.zone] : undefined;
      for (const door of zone?.doors ?? []) doors.add(door);
    }
  }
  return [...doors].sort();
}
