/*
 * The access model as the policy core sees it: plain, compiled data, no I/O, no config schema.
 * src/config/access-model.ts turns the YAML file's `zones`, `accessGroups`, `schedules`,
 * `holidays`, `areas` and the doors' `mode` into one AccessModel; the index, the decisions and
 * the derivation read only this.
 *
 *   doors → zones → access groups (each zone with a schedule) → people (person_groups rows)
 *
 * A booking's resource points at access groups too, but a booking grant is bounded by its
 * window, never by the group's schedule: for bookings only the groups' doors count.
 */

/** Minutes since local midnight, 0–1440. */
export type DayMinute = number;

/**
 * One interval of a day in the site's zone. `to <= from` crosses midnight: it ends at `to` on the
 * next day. An interval belongs to the day it starts on: a holiday replaces the intervals that
 * start on it, and an interval that started the evening before runs to its end.
 */
export interface DayInterval {
  readonly from: DayMinute;
  readonly to: DayMinute;
}

export interface ScheduleDef {
  readonly id: string;
  /** Seven days, Monday first (ISO weekday − 1). */
  readonly weekly: readonly (readonly DayInterval[])[];
  /** What the schedule opens on a holiday; [] = closed all day. */
  readonly holiday: readonly DayInterval[];
}

/** `YYYY-MM-DD` once, or `MM-DD` every year, in the site's zone. */
export interface HolidayDef {
  readonly name: string;
  readonly date: string;
}

export interface ZoneDef {
  readonly id: string;
  readonly doors: readonly string[];
}

export interface GroupZone {
  readonly zone: string;
  /** null: at any time. */
  readonly schedule: string | null;
}

export interface AccessGroupDef {
  readonly id: string;
  readonly zones: readonly GroupZone[];
  /** Members still open doors while the site is in lockdown. */
  readonly lockdownOverride: boolean;
  /** A member's granted read starts a first-person-in door's scheduled unlock. */
  readonly firstPersonIn: boolean;
}

export type AntiPassback = 'off' | 'soft' | 'hard';

export interface AreaDef {
  readonly id: string;
  /** Readers whose granted reads put a person inside the area / take them out. */
  readonly inReaders: readonly string[];
  readonly outReaders: readonly string[];
  /** soft: logged, the door opens; hard: denied with reason `antipassback`. */
  readonly antiPassback: AntiPassback;
  /** Local time each day at which everyone's position is forgotten; null = never. */
  readonly resetAt: DayMinute | null;
}

/**
 * card: locked, a granted read opens it (the default). scheduled-unlock: held unlocked while
 * `unlockSchedule` is open (free access during hours), and with `firstPersonIn` only after a
 * member of a firstPersonIn group has been granted there during the open interval.
 */
export type DoorMode = 'card' | 'scheduled-unlock';

export interface DoorPolicy {
  readonly id: string;
  readonly mode: DoorMode;
  readonly unlockSchedule: string | null;
  readonly firstPersonIn: boolean;
}

export interface AccessModel {
  /** IANA zone every schedule, holiday and reset time is read in. */
  readonly timeZone: string;
  readonly schedules: readonly ScheduleDef[];
  readonly holidays: readonly HolidayDef[];
  readonly zones: readonly ZoneDef[];
  readonly groups: readonly AccessGroupDef[];
  readonly areas: readonly AreaDef[];
  readonly doors: readonly DoorPolicy[];
}

/** A person's membership of an access group (a person_groups row): the source a standing grant comes from. */
export interface Membership {
  readonly group: string;
  /** ms since epoch, inclusive; -Infinity when open. */
  readonly from: number;
  /** ms since epoch, exclusive; +Infinity when open. */
  readonly to: number;
}

/**
 * Schedule slots as the hot path sees them: small integers, 0 = "always". The index stores a
 * grant's slot beside its door; the decision asks isOpen(slot, at). Implementations keep the
 * current state of every schedule in a flat array valid until the next edge, so a decision costs
 * one array read; an instant outside that range is computed directly (still exact).
 */
export interface ScheduleStates {
  /** Slot of a schedule id (1…n), or 0 for null. Throws on an unknown id (the model is validated before). */
  slotOf(scheduleId: string | null): number;
  isOpen(slot: number, at: number): boolean;
  /** Whether `at` falls on a holiday of the site (the reason `holiday` rather than `outside_schedule`). */
  isHoliday(at: number): boolean;
}

export const ALWAYS = 0;
