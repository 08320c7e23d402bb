import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCliSite } from '../helpers/cli-site.js';
import { idLike } from '../helpers/id-like.js';

/*
 * `lintel bookings …` and `lintel groups …` as an operator runs them (the built CLI): a put
 * gives organizer and attendees the resource's doors from start − grace to end + grace (read
 * back from the grants table), a repeat says unchanged and writes nothing, bad input is exit 2
 * and a missing booking exit 1 with the database as it was, --json carries no row id.
 */

const YAML = [
  'zones: { lobby: { doors: [front] } }',
  'accessGroups: { staff: { zones: [{ zone: lobby }], lockdownOverride: true }, gym: { zones: [{ zone: lobby }] } }',
  // room-1 opens its door with the default grace (30/30); desk-1 through the gym group, with its own.
  'resources: [{ id: room-1, doors: [front] }, { id: desk-1, accessGroups: [gym], graceBeforeMinutes: 10, graceAfterMinutes: 0 }]',
  '',
].join('\n');

const START = '2030-03-01T09:00:00Z';
const END = '2030-03-01T10:00:00Z';
const at = (iso: string, minutes = 0) => Date.parse(iso) + minutes * 60_000;

/** Reads the site's database without writing it, between two CLI runs. */
function read<T>(dir: string, sql: string): T[] {
  const db = new Database(join(dir, 'data', 'lintel.db'), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

type Grant = [email: string, door: string, from: number | null, to: number | null, sourceId: string];
const grants = (dir: string) =>
  read<{ email: string; door_id: string; valid_from: number | null; valid_to: number | null; source_id: string }>(
    dir,
    "SELECT p.email, g.door_id, g.valid_from, g.valid_to, g.source_id FROM grants g JOIN people p ON p.id = g.person_id WHERE g.source = 'booking' ORDER BY g.source_id, p.email",
  ).map((g): Grant => [g.email, g.door_id, g.valid_from, g.valid_to, g.source_id]);

/** The tables a booking writes, whole: a retry or a refusal must leave them exactly so. */
const snapshot = (dir: string) => ['people', 'grants', 'appointments', 'change_audit', 'change_log'].map((t) => read(dir, `SELECT * FROM ${t} ORDER BY rowid`));

const audit = (dir: string) => read<{ actor: string; action: string; target: string }>(dir, 'SELECT actor, action, target FROM change_audit ORDER BY id');


// One site for the whole file, in order: the groups steps read the people the bookings made.
describe('lintel bookings and groups', () => {
  const site = useCliSite('ux', YAML);
  const lintel = (...args: string[]) => site.lintel(...args);
  const put = (id: string, ...args: string[]) => lintel('bookings', 'put', id, ...args);
  const b1 = ['--resource', 'room-1', '--starts', START, '--ends', END, '--organizer', 'Ana@Example.com', '--organizer-name', 'Ana', '--attendee', 'bo@example.com', '--attendees', 'cy@example.com, ANA@example.com'];

  it('puts a booking: organizer and attendees get the door with the grace; a repeat is unchanged; a move re-derives', () => {
    const made = put('b1', ...b1);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toBe(
      `created booking b1: room-1 from 2030-03-01T09:00:00.000Z until 2030-03-01T10:00:00.000Z; organizer ana@example.com (Ana); ` +
        'attendees: bo@example.com, cy@example.com; opens front from 2030-03-01T08:30:00.000Z until 2030-03-01T10:30:00.000Z\n',
    );
    const window = [at(START, -30), at(END, 30)] as const;
    expect(grants(site.dir)).toEqual([
      ['ana@example.com', 'front', ...window, 'api:b1'],
      ['bo@example.com', 'front', ...window, 'api:b1'],
      ['cy@example.com', 'front', ...window, 'api:b1'],
    ]);

    const before = snapshot(site.dir);
    const again = put('b1', ...b1);
    expect(again.stdout).toMatch(/^unchanged booking b1: room-1 /);
    expect(snapshot(site.dir)).toEqual(before);

    const moved = put('b1', '--resource', 'room-1', '--starts', START, '--ends', '2030-03-01T11:00:00+00:00', '--organizer', 'ana@example.com', '--attendee', 'bo@example.com');
    expect(moved.stdout).toMatch(/^updated booking b1: .*attendees: bo@example\.com; opens front from 2030-03-01T08:30:00\.000Z until 2030-03-01T11:30:00\.000Z\n$/);
    // cy is no longer invited: their grant goes with the move.
    expect(grants(site.dir)).toEqual([
      ['ana@example.com', 'front', at(START, -30), at('2030-03-01T11:00:00Z', 30), 'api:b1'],
      ['bo@example.com', 'front', at(START, -30), at('2030-03-01T11:00:00Z', 30), 'api:b1'],
    ]);

    const shown = lintel('bookings', 'show', 'b1', '--json');
    expect(shown.status, shown.stderr).toBe(0);
    const booking = JSON.parse(shown.stdout) as Record<string, unknown>;
    expect(booking).toEqual({
      bookingId: 'b1',
      resourceId: 'room-1',
      startsAt: '2030-03-01T09:00:00.000Z',
      endsAt: '2030-03-01T11:00:00.000Z',
      organizer: { email: 'ana@example.com', name: 'Ana' },
      attendees: [{ email: 'bo@example.com', name: null }],
      updatedAt: expect.stringMatching(/^2\d{3}-.*Z$/),
    });
    expect(idLike(booking)).toEqual([['bookingId', 'b1'], ['resourceId', 'room-1']]);
  }, 60_000);

  it('a resource reached through an access group opens that group’s doors with its own grace', () => {
    const r = put('b2', '--resource', 'desk-1', '--starts', START, '--ends', END, '--organizer', 'dee@example.com', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ bookingId: 'b2', resourceId: 'desk-1', organizer: { email: 'dee@example.com', name: null }, attendees: [] });
    expect(grants(site.dir).filter((g) => g[4] === 'api:b2')).toEqual([['dee@example.com', 'front', at(START, -10), at(END), 'api:b2']]);
  }, 60_000);

  it('refuses bad input with exit 2 and a missing booking with exit 1, the database unchanged', () => {
    const before = snapshot(site.dir);
    const body = (over: Record<string, string>) => Object.entries({ '--resource': 'room-1', '--starts': START, '--ends': END, '--organizer': 'eve@example.com', ...over }).flat();
    const refusals: [string[], number, string][] = [
      [['put', 'b3', ...body({ '--resource': 'vault' })], 2, '--resource: unknown resource "vault"'],
      [['put', 'b3', ...body({ '--ends': START })], 2, '--ends: endsAt must be after startsAt'],
      [['put', 'b3', ...body({ '--starts': 'tomorrow' })], 2, '--starts: Invalid ISO datetime'],
      [['put', 'b3', ...body({ '--organizer': 'eve' })], 2, '--organizer: Invalid email address'],
      [['put', 'b3', ...body({}), '--attendees', 'fay@example.com,nobody'], 2, 'attendee 2: Invalid email address'],
      [['put', 'b3', '--resource', 'room-1', '--starts', START, '--ends', END], 2, '--organizer is required'],
      [['put', ' b3', ...body({})], 2, 'ID: 1 to 100 characters, no leading or trailing spaces'],
      // node:util's own words after the option's name differ between Node releases.
      [['put', 'b3', ...body({}), '--frob'], 2, "Unknown option '--frob'."],
      [['show', 'b3'], 1, 'no booking with id "b3" (nothing changed)'],
      [['cancel', 'b3'], 1, 'no booking with id "b3" (nothing changed)'],
    ];
    for (const [args, status, message] of refusals) {
      const r = lintel('bookings', ...args);
      expect([r.status, r.stderr.slice(0, message.length)], args.join(' ')).toEqual([status, message]);
      expect(r.stderr, args.join(' ')).toMatch(status === 2 ? /\nusage: lintel bookings put /u : /^[^\n]*\n$/u);
    }
    expect(snapshot(site.dir)).toEqual(before);
  }, 60_000);

  it('cancels: the access goes at once, a second cancel is exit 1; one audit row per change by cli:', () => {
    const r = lintel('bookings', 'cancel', 'b1');
    expect([r.status, r.stdout]).toEqual([0, 'cancelled booking b1\n']);
    expect(grants(site.dir).map((g) => g[4])).toEqual(['api:b2']);
    const again = lintel('bookings', 'cancel', 'b1');
    expect([again.status, again.stderr]).toEqual([1, 'no booking with id "b1" (nothing changed)\n']);
    expect(lintel('bookings', 'show', 'b1').status).toBe(1);

    const rows = audit(site.dir);
    expect(rows.map((a) => [a.action, a.target])).toEqual([
      ['booking.create', 'b1'],
      ['booking.update', 'b1'],
      ['booking.create', 'b2'],
      ['booking.cancel', 'b1'],
    ]);
    expect(rows.every((a) => a.actor.startsWith('cli:'))).toBe(true);
  }, 60_000);

  it('groups list counts who holds each group now, any source; groups show names members with source and validity', () => {
    const setup = [
      ['subscriptions', 'put', 's1', '--email', 'ana@example.com', '--groups', 'gym', '--starts', '2020-01-01T00:00:00Z'],
      ['subscriptions', 'put', 's2', '--email', 'bo@example.com', '--groups', 'gym', '--starts', '2099-01-01T00:00:00Z'],
      ['people', 'put', 'ed@example.com', '--groups', 'staff,gym', '--valid-to', '2021-01-01T00:00:00Z'],
      ['people', 'put', 'fay@example.com', '--groups', 'staff'],
    ];
    for (const args of setup) expect(lintel(...args).status, args.join(' ')).toBe(0);

    const list = lintel('groups', 'list');
    expect(list.status, list.stderr).toBe(0);
    // gym: ana now; bo only from 2099; ed's own validity ended in 2021. staff: fay; ed no longer.
    expect(list.stdout).toBe('staff (lockdown override): lobby at any time; 1 person holds it now\ngym: lobby at any time; 1 person holds it now\n');
    expect(JSON.parse(lintel('groups', 'list', '--json').stdout)).toEqual([
      { id: 'staff', zones: [{ zone: 'lobby', schedule: null }], lockdownOverride: true, firstPersonIn: false, holdersNow: 1 },
      { id: 'gym', zones: [{ zone: 'lobby', schedule: null }], lockdownOverride: false, firstPersonIn: false, holdersNow: 1 },
    ]);

    const show = lintel('groups', 'show', 'gym');
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toBe(
      [
        'access group gym: 3 member(s)',
        '  ana@example.com  subscription s1  from 2020-01-01T00:00:00.000Z until open  (now)',
        '  bo@example.com  subscription s2  from 2099-01-01T00:00:00.000Z until open  (not now)',
        '  ed@example.com  staff  always  (not now, person valid from open until 2021-01-01T00:00:00.000Z)',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(lintel('groups', 'show', 'gym', '--json').stdout) as { id: string; members: Record<string, unknown>[] };
    expect(json.members.map((m) => [m.email, m.source, m.subscriptionId, m.validFrom, m.current])).toEqual([
      ['ana@example.com', 'subscription', 's1', '2020-01-01T00:00:00.000Z', true],
      ['bo@example.com', 'subscription', 's2', '2099-01-01T00:00:00.000Z', false],
      ['ed@example.com', 'staff', null, null, false],
    ]);
    expect(idLike(json).every(([, v]) => typeof v === 'string' || v === null)).toBe(true);

    const unknown = lintel('groups', 'show', 'vault');
    expect([unknown.status, unknown.stderr.split('\n')[0]]).toEqual([2, 'unknown access group "vault"']);
    expect(lintel('groups', 'list', 'extra').status).toBe(2);
  }, 60_000);
  it('lists the pushed bookings by resource and window; an attendee may come with a name', () => {
    const named = put('b5', '--resource', 'room-1', '--starts', START, '--ends', END, '--organizer', 'hal@example.com', '--attendee', 'Gus Grey <gus@example.com>', '--json');
    expect(named.status, named.stderr).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({ attendees: [{ email: 'gus@example.com', name: 'Gus Grey' }] });
    const ids = (...args: string[]) => {
      const r = lintel('bookings', 'list', ...args, '--json');
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { bookingId: string }[]).map((b) => b.bookingId);
    };
    expect(ids()).toEqual(['b2', 'b5']);
    expect(ids('--resource', 'desk-1')).toEqual(['b2']);
    expect(ids('--from', '2031-01-01T00:00:00Z')).toEqual([]);
    const text = lintel('bookings', 'list', '--resource', 'room-1');
    expect(text.stdout).toMatch(/^booking b5: room-1 from 2030-03-01T09:00:00.000Z .*attendees: gus@example.com \(Gus Grey\); opens front/u);
    const bad = lintel('bookings', 'list', '--from', 'tomorrow');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^--from: an ISO 8601 instant/u);
  }, 60_000);
});
