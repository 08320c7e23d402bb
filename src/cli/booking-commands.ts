import type { z } from 'zod';
import { BookingPut } from '../api/v1/booking-routes.js';
import { z as zod } from 'zod';
import { cancelBooking, getBooking, putBooking, UnknownResourceError, type BookingView } from '../store/booking-admin.js';
import { listBookings, MAX_BOOKING_PAGE } from '../store/booking-list.js';
import type { Store } from '../store/store.js';
import { InvalidInputError } from '../store/subscription-rows.js';
import { policyOfConfig, type BookingPolicy } from '../upstream/booking-apply.js';
import { withStore } from './cli-store.js';
import { EXIT, UsageError } from './exit-codes.js';
import { printResult, stringFlag, cliActor, configPath, JSON_OPTION, usageLine, type CommandSpec, type Parsed } from './spec.js';

/*
 * `lintel bookings put|cancel|show|list`: the pushed-booking use cases of store/booking-admin.ts from
 * a shell, so an operator can book a room for someone (or undo a platform's push) without curl.
 * The body is checked by the API's own schema (BookingPut of PUT /api/v1/bookings/{id}), so the
 * CLI cannot accept what the API refuses or the other way round. As in company-commands.ts: the
 * operator's input (a bad instant, an unknown resource) is exit 2 with the usage, the data as it
 * is (no such booking) exit 1 with one line and nothing changed; changes are audited as
 * "cli:user@host"; --json prints the API's Booking, natural ids only.
 */


const INSTANT = zod.iso.datetime({ offset: true });
const optional = <K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> => (v === undefined ? {} : ({ [key]: v } as Record<K, number>));

class UnknownBookingError extends Error {
  constructor(readonly bookingId: string) {
    super(`no booking with id "${bookingId}"`);
    this.name = 'UnknownBookingError';
  }
}

/** The API's field names (zod paths, use-case fields) as the flags the operator typed. */
function flagOf(path: readonly PropertyKey[]): string {
  const [head, second, third] = path.map(String);
  if (head === 'resourceId') return '--resource';
  if (head === 'startsAt') return '--starts';
  if (head === 'endsAt') return '--ends';
  if (head === 'organizer') return second === 'name' ? '--organizer-name' : '--organizer';
  if (head === 'attendees') return second === undefined || third === undefined ? '--attendee' : `attendee ${Number(second) + 1}`;
  return head ?? 'input';
}


/** --attendee may repeat (parseArgs gives an array) and --attendees lists several: both add up, in the order typed. */
function attendeesOf(p: Parsed): string[] {
  const repeated = (p.values.attendee as unknown as string[] | undefined) ?? [];
  const listed = (stringFlag(p, 'attendees') ?? '').split(',');
  return [...repeated, ...listed].map((e) => e.trim()).filter((e) => e !== '');
}

/** `bo@example.com`, or with a name as mail clients write it: `Bo Berg <bo@example.com>`. */
function participantOf(text: string): { email: string; name?: string } {
  const named = /^(.*\S)\s*<([^<>]+)>$/.exec(text);
  return named ? { email: named[2]!.trim(), name: named[1]!.trim() } : { email: text };
}

const iso = (v: number) => new Date(v).toISOString();

/** The API's Booking (GET /api/v1/bookings/ID). */
const wire = (b: BookingView) => ({ ...b, startsAt: iso(b.startsAt), endsAt: iso(b.endsAt), updatedAt: iso(b.updatedAt) });

const who = (p: { email: string; name: string | null }) => (p.name === null ? p.email : `${p.email} (${p.name})`);

/** One line, with what the booking opens: the operator's question after a put is "can they get in?". */
function describe(b: BookingView, policy: BookingPolicy): string {
  const attendees = b.attendees.length === 0 ? 'no attendees' : `attendees: ${b.attendees.map(who).join(', ')}`;
  const doors = policy.doorsOf(b.resourceId);
  const grace = policy.graceOf(b.resourceId);
  const opens =
    doors.length === 0
      ? 'opens no door (the resource has none)'
      : `opens ${doors.join(', ')} from ${iso(b.startsAt - grace.beforeMin * 60_000)} until ${iso(b.endsAt + grace.afterMin * 60_000)}`;
  return `booking ${b.bookingId}: ${b.resourceId} from ${iso(b.startsAt)} until ${iso(b.endsAt)}; organizer ${who(b.organizer)}; ${attendees}; ${opens}`;
}

/** Runs a use case with the configured booking policy; refusals become exit 2 (the input) or 1 with one line (the data). */
function attempt(command: CommandSpec, p: Parsed, fn: (store: Store, policy: BookingPolicy) => number): number {
  return withStore(configPath(p.values.config), (store, cfg) => {
    try {
      return fn(store, policyOfConfig(store, cfg));
    } catch (err) {
      if (err instanceof UnknownResourceError) throw new UsageError(`--resource: ${err.message}\n${usageLine(command)}`);
      if (err instanceof InvalidInputError) throw new UsageError(`${flagOf(err.field.split('.'))}: ${err.message}\n${usageLine(command)}`);
      if (err instanceof UnknownBookingError) {
        console.error(`${err.message} (nothing changed)`);
        return EXIT.failure;
      }
      throw err;
    }
  });
}

function bookingIdOf(command: CommandSpec, p: Parsed): string {
  const id = p.positionals[0]!;
  // The API's path rule for {bookingId}: what a platform could not PUT, the CLI does not either.
  if (id.length === 0 || id.length > 100 || !/^\S(.*\S)?$/.test(id)) throw new UsageError(`ID: 1 to 100 characters, no leading or trailing spaces\n${usageLine(command)}`);
  return id;
}

function bodyOf(command: CommandSpec, p: Parsed): z.output<typeof BookingPut> {
  const name = stringFlag(p, 'organizer-name');
  const organizer = { email: stringFlag(p, 'organizer')?.trim(), ...(name === undefined ? {} : { name }) };
  for (const [flag, v] of [['--resource', stringFlag(p, 'resource')], ['--starts', stringFlag(p, 'starts')], ['--ends', stringFlag(p, 'ends')], ['--organizer', organizer.email]] as const) {
    if (v === undefined) throw new UsageError(`${flag} is required\n${usageLine(command)}`);
  }
  const body = { resourceId: stringFlag(p, 'resource'), startsAt: stringFlag(p, 'starts'), endsAt: stringFlag(p, 'ends'), organizer, attendees: attendeesOf(p).map(participantOf) };
  const r = BookingPut.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UsageError(`${flagOf(issue.path)}: ${issue.message}\n${usageLine(command)}`);
  }
  return r.data;
}


export function bookingCommands(): CommandSpec[] {
  const put: CommandSpec = {
    name: 'bookings put',
    args: 'ID --resource R --starts T --ends T --organizer EMAIL [--organizer-name N] [--attendee EMAIL ...|--attendees E1,E2] [-c FILE] [--json]',
    summary: "Create or move a pushed booking (as PUT /api/v1/bookings/ID): its people get the resource's doors from start − grace to end + grace.",
    details:
      'Instants are ISO 8601 with an offset (2026-12-01T09:00:00+01:00). People not known yet are created, pending until a card arrives. ' +
      'A repeated identical put changes nothing and says "unchanged". Exit 2 on an unknown resource, a bad instant or address, or an end not after the start.',
    positionals: [1, 1],
    options: {
      resource: { type: 'string', help: 'a resource of the config (room, desk, office, parking, equipment)' },
      starts: { type: 'string', help: 'the booking begins (ISO 8601 with offset)' },
      ends: { type: 'string', help: 'the booking ends, exclusive' },
      organizer: { type: 'string', help: "the organizer's email" },
      'organizer-name': { type: 'string', help: "the organizer's name, for a person this booking creates" },
      attendee: { type: 'string', multiple: true, help: 'an attendee: EMAIL or "Name <EMAIL>" (repeat for more)' },
      attendees: { type: 'string', help: 'attendee emails, comma-separated' },
      ...JSON_OPTION,
    },
    run: (p) => {
      const id = bookingIdOf(put, p);
      const b = bodyOf(put, p);
      const input = { resourceId: b.resourceId, startsAt: Date.parse(b.startsAt), endsAt: Date.parse(b.endsAt), organizer: b.organizer, attendees: b.attendees };
      return attempt(put, p, (store, policy) => {
        const out = putBooking(store, id, input, policy, { actor: cliActor(), now: Date.now() });
        printResult(p, wire(out.booking), `${out.created ? 'created' : out.changed ? 'updated' : 'unchanged'} ${describe(out.booking, policy)}`);
        return EXIT.ok;
      });
    },
  };
  const cancel: CommandSpec = {
    name: 'bookings cancel',
    args: 'ID [-c FILE]',
    summary: 'Cancel a pushed booking (as DELETE /api/v1/bookings/ID): the access it gave goes at once.',
    details: 'Exit 1 when there is no such booking.',
    positionals: [1, 1],
    run: (p) => {
      const id = bookingIdOf(cancel, p);
      return attempt(cancel, p, (store) => {
        if (!cancelBooking(store, id, { actor: cliActor(), now: Date.now() }).changed) throw new UnknownBookingError(id);
        console.log(`cancelled booking ${id}`);
        return EXIT.ok;
      });
    },
  };
  const show: CommandSpec = {
    name: 'bookings show',
    args: 'ID [-c FILE] [--json]',
    summary: 'One pushed booking: resource, times, organizer, attendees, and the doors it opens when.',
    details: 'Exit 1 when there is no such booking.',
    positionals: [1, 1],
    options: JSON_OPTION,
    run: (p) => {
      const id = bookingIdOf(show, p);
      return attempt(show, p, (store, policy) => {
        const found = getBooking(store, id);
        if (found === undefined) throw new UnknownBookingError(id);
        printResult(p, wire(found), describe(found, policy));
        return EXIT.ok;
      });
    },
  };
  const list: CommandSpec = {
    name: 'bookings list',
    args: '[--resource R] [--from T] [--to T] [-c FILE] [--json]',
    summary: 'The pushed bookings (as GET /api/v1/bookings), of a resource, overlapping a window.',
    details: '--from keeps bookings that end after T, --to those that start before T (ISO 8601 with offset). The platform\'s fetched daily lists are not listed. Exit 2 on a bad instant.',
    positionals: [0, 0],
    options: {
      resource: { type: 'string', help: 'only this resource' },
      from: { type: 'string', help: 'only bookings that end after this instant' },
      to: { type: 'string', help: 'only bookings that start before this instant' },
      ...JSON_OPTION,
    },
    run: (p) => {
      const instant = (flag: 'from' | 'to'): number | undefined => {
        const v = stringFlag(p, flag);
        if (v === undefined) return undefined;
        if (!INSTANT.safeParse(v).success) throw new UsageError(`--${flag}: an ISO 8601 instant with offset (2026-12-01T09:00:00+01:00)\n${usageLine(list)}`);
        return Date.parse(v);
      };
      const resource = stringFlag(p, 'resource');
      const query = { ...(resource === undefined ? {} : { resourceId: resource }), ...optional('from', instant('from')), ...optional('to', instant('to')) };
      return attempt(list, p, (store, policy) => {
        const all: BookingView[] = [];
        let cursor: string | undefined;
        do {
          const page = listBookings(store, { ...query, limit: MAX_BOOKING_PAGE, ...(cursor === undefined ? {} : { cursor }) });
          all.push(...page.bookings);
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
        if (p.values.json) console.log(JSON.stringify(all.map(wire), null, 2));
        else console.log(all.length === 0 ? 'no pushed bookings' : all.map((b) => describe(b, policy)).join('\n'));
        return EXIT.ok;
      });
    },
  };
  return [put, cancel, show, list];
}
