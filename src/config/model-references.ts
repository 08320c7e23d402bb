import type { z } from 'zod';

/*
 * The access model's cross-references, checked with the rest of the config (schema.ts calls
 * this from its superRefine): every door, zone, schedule, access group and reader a section
 * names must exist, so a typo fails `lintel check-config` with its path instead of silently
 * leaving a door shut (or open). Messages follow schema.ts: `unknown door "sid"`.
 */

/** What of the parsed config the checks read; structural, so schema.ts and this file do not import each other's types. */
export interface ModelReferencesInput {
  doors: ReadonlyArray<{ id: string; mode?: 'card' | 'scheduled-unlock' | undefined; unlockSchedule?: string | undefined; firstPersonIn?: boolean | undefined }>;
  readers: ReadonlyArray<{ id: string }>;
  resources: ReadonlyArray<{ doors: readonly string[]; accessGroups?: readonly string[] | undefined }>;
  schedules: Readonly<Record<string, unknown>>;
  holidays: ReadonlyArray<{ name: string; date: string }>;
  zones: Readonly<Record<string, { doors: readonly string[] }>>;
  accessGroups: Readonly<Record<string, { zones: ReadonlyArray<{ zone: string; schedule?: string | undefined }>; firstPersonIn: boolean }>>;
  areas: Readonly<Record<string, { in: readonly string[]; out: readonly string[] }>>;
}

type Ctx = z.RefinementCtx;

function issue(ctx: Ctx, path: PropertyKey[], message: string): void {
  ctx.addIssue({ code: 'custom', path, message });
}

/** Reports each id of `list` that is not `known`, and each one listed twice. */
function checkList(ctx: Ctx, path: PropertyKey[], list: readonly string[], known: ReadonlySet<string>, what: string): void {
  const seen = new Set<string>();
  list.forEach((ref, i) => {
    if (!known.has(ref)) issue(ctx, [...path, i], `unknown ${what} "${ref}"`);
    else if (seen.has(ref)) issue(ctx, [...path, i], `${what} "${ref}" is listed twice`);
    seen.add(ref);
  });
}

export function checkModelReferences(cfg: ModelReferencesInput, ctx: Ctx): void {
  const doors = new Set(cfg.doors.map((d) => d.id));
  const schedules = new Set(Object.keys(cfg.schedules));
  const zones = new Set(Object.keys(cfg.zones));
  const groups = new Set(Object.keys(cfg.accessGroups));
  const readers = new Set(cfg.readers.map((r) => r.id));

  for (const [zoneId, zone] of Object.entries(cfg.zones)) checkList(ctx, ['zones', zoneId, 'doors'], zone.doors, doors, 'door');

  for (const [groupId, group] of Object.entries(cfg.accessGroups)) {
    const seen = new Set<string>();
    group.zones.forEach((entry, i) => {
      const path = ['accessGroups', groupId, 'zones', i];
      if (!zones.has(entry.zone)) issue(ctx, [...path, 'zone'], `unknown zone "${entry.zone}"`);
      if (entry.schedule !== undefined && !schedules.has(entry.schedule)) issue(ctx, [...path, 'schedule'], `unknown schedule "${entry.schedule}"`);
      // The same zone on two schedules is their union; the same pair twice is a copy-paste slip.
      const pair = `${entry.zone}\n${entry.schedule ?? ''}`;
      if (seen.has(pair)) issue(ctx, path, `zone "${entry.zone}" is listed twice${entry.schedule === undefined ? '' : ` on schedule "${entry.schedule}"`}`);
      seen.add(pair);
    });
  }

  cfg.resources.forEach((res, i) => {
    const ownGroups = res.accessGroups ?? [];
    if (res.doors.length === 0 && ownGroups.length === 0) issue(ctx, ['resources', i], 'give doors, accessGroups or both');
    checkList(ctx, ['resources', i, 'accessGroups'], ownGroups, groups, 'access group');
  });

  const holidayDates = new Map<string, string>();
  cfg.holidays.forEach((h, i) => {
    const other = holidayDates.get(h.date);
    if (other !== undefined) issue(ctx, ['holidays', i, 'date'], `duplicate holiday date "${h.date}" (also "${other}")`);
    holidayDates.set(h.date, h.name);
  });

  for (const [areaId, area] of Object.entries(cfg.areas)) {
    checkList(ctx, ['areas', areaId, 'in'], area.in, readers, 'reader');
    checkList(ctx, ['areas', areaId, 'out'], area.out, readers, 'reader');
    const inReaders = new Set(area.in);
    area.out.forEach((r, j) => {
      if (inReaders.has(r)) issue(ctx, ['areas', areaId, 'out', j], `reader "${r}" is also an in reader of this area`);
    });
  }

  checkDoorModes(cfg, ctx, schedules);
}

/** A door's mode, its unlock schedule and first-person-in must fit together (model.ts DoorPolicy). */
function checkDoorModes(cfg: ModelReferencesInput, ctx: Ctx, schedules: ReadonlySet<string>): void {
  const firstPersonInDoors = doorsOpenedByFirstPersonInGroups(cfg);
  cfg.doors.forEach((d, i) => {
    const scheduled = d.mode === 'scheduled-unlock';
    if (scheduled && d.unlockSchedule === undefined) issue(ctx, ['doors', i, 'unlockSchedule'], 'a scheduled-unlock door needs unlockSchedule');
    if (!scheduled && d.unlockSchedule !== undefined) issue(ctx, ['doors', i, 'unlockSchedule'], 'only a scheduled-unlock door has an unlockSchedule (set mode: scheduled-unlock)');
    if (d.unlockSchedule !== undefined && !schedules.has(d.unlockSchedule)) issue(ctx, ['doors', i, 'unlockSchedule'], `unknown schedule "${d.unlockSchedule}"`);
    if (d.firstPersonIn === true && !scheduled) issue(ctx, ['doors', i, 'firstPersonIn'], 'only a scheduled-unlock door waits for a first person in');
    // Otherwise nobody could ever start the unlock: the door would stay locked all day, unannounced.
    if (d.firstPersonIn === true && scheduled && !firstPersonInDoors.has(d.id)) {
      issue(ctx, ['doors', i, 'firstPersonIn'], 'no access group with firstPersonIn opens this door, so its scheduled unlock would never start');
    }
  });
}

function doorsOpenedByFirstPersonInGroups(cfg: ModelReferencesInput): Set<string> {
  const doors = new Set<string>();
  for (const group of Object.values(cfg.accessGroups)) {
    if (!group.firstPersonIn) continue;
    for (const entry of group.zones) for (const door of cfg.zones[entry.zone]?.doors ?? []) doors.add(door);
  }
  return doors;
}
