import { z } from 'zod';
import { INTERVAL_HINT, intervalEnd, isHolidayDate, parseClock, parseInterval, parseWeekdays, type Weekday } from './time-of-day.js';

/*
 * The YAML side of the access model (src/access/model.ts): `schedules`, `holidays`, `zones`,
 * `accessGroups` and `areas`, and the site's time zone. Things with an id are maps keyed by it
 * (`zones: { lobby: { doors: [front] } }`), so a duplicate id is a duplicate YAML key, which the
 * loader refuses, and a reload names a change `zones.lobby.doors`. The strings stay strings in
 * the Config (check-config prints them, reload diffs them); config/access-model.ts compiles them.
 * Cross-references between sections are checked in model-references.ts.
 */

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ID_HINT = 'letters, digits, "_", "." and "-" only (used in MQTT topics)';

const id = z.string().min(1).max(64).regex(ID_PATTERN, ID_HINT);

/** A map keyed by id: each key checked as an id, with a path-labelled message rather than zod's "Invalid key in record". */
function keyedById<T extends z.ZodType>(value: T) {
  return z.record(z.string(), value).superRefine((map, ctx) => {
    for (const key of Object.keys(map)) {
      if (key.length > 64 || !ID_PATTERN.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not an id: ${ID_HINT}, at most 64` });
    }
  });
}

const interval = z.string().refine((s) => parseInterval(s) !== null, { error: (iss) => `"${String(iss.input)}" is not ${INTERVAL_HINT}` });

/**
 * One day's intervals, sorted by start, must not overlap: two that do are almost always a typo
 * ("09:00-17:00", "13:00-12:00"), and a day that really wants both writes their union.
 */
const intervals = z.array(interval).superRefine((list, ctx) => {
  const parsed = list.map((text, i) => ({ text, i, span: parseInterval(text) })).filter((p) => p.span !== null);
  parsed.sort((a, b) => a.span!.from - b.span!.from);
  for (let k = 1; k < parsed.length; k++) {
    const prev = parsed[k - 1]!;
    const cur = parsed[k]!;
    if (cur.span!.from < intervalEnd(prev.span!)) ctx.addIssue({ code: 'custom', path: [cur.i], message: `"${cur.text}" overlaps "${prev.text}"` });
  }
});

/** `weekly` keys: each day given once, by a day ("sat") or a range ("mon-fri"). */
const weekly = z.record(z.string(), intervals).superRefine((days, ctx) => {
  const givenBy = new Map<Weekday, string>();
  for (const key of Object.keys(days)) {
    const named = parseWeekdays(key);
    if (named === null) {
      ctx.addIssue({ code: 'custom', path: [key], message: `unknown day "${key}": mon, tue, wed, thu, fri, sat, sun, or a range such as mon-fri` });
      continue;
    }
    for (const day of named) {
      const other = givenBy.get(day);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${day} is already given by "${other}"` });
      else givenBy.set(day, key);
    }
  }
});

const scheduleSchema = z.strictObject({
  /** Day (or range of days) → intervals that start on it; a day not named is closed. */
  weekly: weekly.default({}),
  /** What the schedule opens on a holiday of the site (top-level `holidays`); [] = closed all day. */
  holidays: intervals.default([]),
});

export type ScheduleConfig = z.output<typeof scheduleSchema>;

const holidaySchema = z.strictObject({
  name: z.string().min(1).max(128),
  date: z.string().refine(isHolidayDate, { error: (iss) => `"${String(iss.input)}" is not a date: YYYY-MM-DD once, or MM-DD every year` }),
});

const zoneSchema = z.strictObject({ doors: z.array(id).min(1) });

const groupZoneSchema = z.strictObject({
  zone: id,
  /** Omitted: the zone's doors open at any time. */
  schedule: id.optional(),
});

const accessGroupSchema = z.strictObject({
  zones: z.array(groupZoneSchema).min(1),
  /** Members still open doors while the site is in lockdown (`lintel lockdown on`). */
  lockdownOverride: z.boolean().default(false),
  /** A member's granted read starts the scheduled unlock of a door with firstPersonIn. */
  firstPersonIn: z.boolean().default(false),
});

export const clockTime = z.string().refine((s) => parseClock(s) !== null, { error: (iss) => `"${String(iss.input)}" is not HH:MM (00:00–23:59)` });

const areaSchema = z.strictObject({
  /** Readers whose granted reads put a person inside the area. */
  in: z.array(id).min(1),
  /** Readers whose granted reads take them out again. */
  out: z.array(id).default([]),
  /** off: positions are only tracked; soft: a read out of turn is logged, the door opens; hard: it is denied. */
  antiPassback: z.enum(['off', 'soft', 'hard']).default('off'),
  /** Local time at which everyone's position is forgotten each day; omitted: never. */
  resetAt: clockTime.optional(),
});

/** The host's IANA zone: a site without `site.timeZone` reads its schedules in the zone of the box it runs on. */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/** The zone's canonical name ("europe/berlin" → "Europe/Berlin"), or null when Intl does not know it. */
export function canonicalTimeZone(name: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/**
 * `site.timeZone`: validated against Intl (the same tables the schedules are computed with),
 * defaulted to the host's zone at load so check-config prints the zone actually used.
 */
export const timeZoneSchema = z
  .string()
  .min(1)
  .transform((name, ctx) => {
    const canonical = canonicalTimeZone(name);
    if (canonical === null) ctx.addIssue({ code: 'custom', message: `unknown time zone "${name}": an IANA name such as Europe/Berlin or UTC` });
    return canonical ?? name;
  })
  .default(hostTimeZone);

/** Top-level sections, spread into configSchema; each defaults to empty so a file without them stays valid. */
export const modelSections = {
  schedules: keyedById(scheduleSchema).default({}),
  holidays: z.array(holidaySchema).default([]),
  zones: keyedById(zoneSchema).default({}),
  accessGroups: keyedById(accessGroupSchema).default({}),
  areas: keyedById(areaSchema).default({}),
};

/**
 * A door's fields of the model, spread into the door schema. Optional rather than defaulted, so
 * the DoorConfig literals the relay's tests and benches build stay valid; accessModelOf reads
 * an absent mode as 'card' and an absent firstPersonIn as false.
 */
export const doorModelFields = {
  /** card (the default): locked, a granted read opens it. scheduled-unlock: held open while unlockSchedule is open. */
  mode: z.enum(['card', 'scheduled-unlock']).optional(),
  unlockSchedule: id.optional(),
  /** The scheduled unlock starts only once a member of a firstPersonIn group was granted here. */
  firstPersonIn: z.boolean().optional(),
};
