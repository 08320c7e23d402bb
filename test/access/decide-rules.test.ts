import { describe, expect, it } from 'vitest';
import { AccessIndex, type PersonInput } from '../../src/access/access-index.js';
import { decideCard, decideCardInto, decideMemberInto, decidePerson, type PolicyContext } from '../../src/access/decide.js';
import type { AccessModel } from '../../src/access/model.js';
import { decisionSlot } from '../../src/access/types.js';
import { ListedSchedules } from './test-schedules.js';

/*
 * Every rule of the decision core (src/access/decide.ts) with its reason, on a real index and
 * a hand-written ScheduleStates: the office schedule is open 08:00–18:00 on the test day, and
 * the next day is a holiday on which it stays closed.
 */

const DAY = Date.parse('2026-12-02T00:00:00Z');
const H = 3600_000;
const NOON = DAY + 12 * H;
const EVENING = DAY + 20 * H;
const HOLIDAY_NOON = DAY + 36 * H;

const model: AccessModel = {
  timeZone: 'UTC',
  schedules: [{ id: 'office', weekly: [[], [], [], [], [], [], []], holiday: [] }],
  holidays: [{ name: 'Test day', date: '2026-12-03' }],
  zones: [
    { id: 'lobby', doors: ['front'] },
    { id: 'labs', doors: ['lab'] },
  ],
  groups: [
    { id: 'staff', zones: [{ zone: 'lobby', schedule: 'office' }], lockdownOverride: false, firstPersonIn: false },
    { id: 'security', zones: [{ zone: 'lobby', schedule: null }, { zone: 'labs', schedule: null }], lockdownOverride: true, firstPersonIn: true },
  ],
  areas: [],
  doors: [],
};

function site(): { index: AccessIndex; states: ListedSchedules } {
  const states = new ListedSchedules({ office: [[DAY + 8 * H, DAY + 18 * H]] }, [[DAY + 24 * H, DAY + 48 * H]]);
  const index = new AccessIndex({ hashSeed: 7 });
  index.setModel(model, states);
  index.setDoors(['front', 'lab', 'side']);
  return { index, states };
}

const person = (id: number, card: string, more: Partial<PersonInput> = {}): PersonInput => ({
  id,
  active: true,
  tokensValidAfter: 0,
  grants: [],
  cards: [{ number: card, active: true }],
  ...more,
});

const lockedDown: PolicyContext = { site: { lockdown: true } };

describe('the decision core, rule by rule', () => {
  it('door, credential and person rules, in their order', () => {
    const { index } = site();
    index.putPerson(person(1, '1001', { grants: [{ door: 'front', from: DAY, to: DAY + 2 * 24 * H, source: 'booking' }] }));
    index.putPerson(person(2, '2002', { cards: [{ number: '2002', active: false }, { number: '2003', active: false, state: 'lost' }] }));
    index.putPerson(person(3, '3003', { cards: [{ number: '3003', active: true, validFrom: NOON, validTo: EVENING }] }));
    index.putPerson(person(4, '4004', { active: false, grants: [{ door: 'front', from: -Infinity, to: Infinity }] }));
    index.putPerson(person(5, '5005', { validFrom: NOON, validTo: EVENING, grants: [{ door: 'front', from: -Infinity, to: Infinity }] }));

    expect(decideCard(index, '1001', 'vault', NOON).reason).toBe('door_unknown');
    expect(decideCard(index, '9999', 'front', NOON)).toEqual({ result: 'denied', reason: 'unknown_credential', personId: null });
    expect(decideCard(index, '2002', 'front', NOON)).toEqual({ result: 'denied', reason: 'credential_disabled', personId: 2 });
    expect(decideCard(index, '2003', 'front', NOON)).toEqual({ result: 'denied', reason: 'credential_lost', personId: 2 });
    expect(decideCard(index, '3003', 'front', NOON - 1).reason).toBe('credential_not_yet_valid');
    expect(decideCard(index, '3003', 'front', EVENING).reason).toBe('credential_expired'); // validTo is exclusive
    expect(decideCard(index, '3003', 'front', NOON).reason).toBe('no_grant'); // a valid card, then the windows
    expect(decideCard(index, '4004', 'front', NOON).reason).toBe('person_suspended');
    expect(decideCard(index, '5005', 'front', NOON - 1).reason).toBe('person_not_yet_valid');
    expect(decideCard(index, '5005', 'front', EVENING).reason).toBe('person_expired');
    expect(decideCard(index, '5005', 'front', NOON)).toEqual({ result: 'granted', reason: 'granted', personId: 5 });
    expect(decidePerson(index, 5, 'front', EVENING).reason).toBe('person_expired');
    expect(decidePerson(index, 77, 'front', NOON).reason).toBe('unknown_credential');
    expect(index.personValidity(5)).toEqual({ validFrom: NOON, validTo: EVENING });
    expect(index.personValidity(1)).toEqual({ validFrom: -Infinity, validTo: Infinity });
  });

  it('windows: no_grant, outside_window, outside_schedule, holiday, and the source that granted', () => {
    const { index, states } = site();
    index.putPerson(
      person(1, '1001', {
        grants: [{ door: 'lab', from: DAY + 9 * H, to: DAY + 10 * H, source: 'booking' }],
        memberships: [{ group: 'staff', from: -Infinity, to: Infinity }],
      }),
    );
    const slot = decisionSlot();
    expect(decideCardInto(slot, index, '1001', 'front', NOON)).toMatchObject({ result: 'granted', reason: 'granted', personId: 1, source: 'group' });
    expect(decideCardInto(slot, index, '1001', 'lab', DAY + 9 * H)).toMatchObject({ result: 'granted', source: 'booking' });
    expect(decideCard(index, '1001', 'lab', NOON).reason).toBe('outside_window');
    expect(decideCard(index, '1001', 'side', NOON).reason).toBe('no_grant');
    expect(decideCard(index, '1001', 'front', EVENING).reason).toBe('outside_schedule');
    expect(decideCard(index, '1001', 'front', HOLIDAY_NOON).reason).toBe('holiday');
    // The booking at the lab is bounded by its window only: no schedule is asked for it.
    states.asked = 0;
    decideCard(index, '1001', 'lab', DAY + 9 * H);
    expect(states.asked).toBe(0);
    expect(decideCard(index, '1001', 'lab', DAY + 9 * H)).toEqual({ result: 'granted', reason: 'granted', personId: 1, source: 'booking' });
  });

  it('a closed schedule says more than an ended window; any open window grants', () => {
    const { index } = site();
    index.putPerson(
      person(1, '1001', {
        grants: [
          { door: 'front', from: DAY, to: DAY + H, source: 'staff' },
          { door: 'front', from: -Infinity, to: Infinity, schedule: 'office', source: 'subscription' },
        ],
      }),
    );
    expect(decideCard(index, '1001', 'front', EVENING).reason).toBe('outside_schedule');
    expect(decideCard(index, '1001', 'front', DAY + 30 * 60_000).source).toBe('staff');
    expect(decideCard(index, '1001', 'front', NOON).source).toBe('subscription');
    expect(index.personWindows(1)).toEqual([
      { door: 'front', from: DAY, to: DAY + H, slot: 0, source: 'staff' },
      { door: 'front', from: -Infinity, to: Infinity, slot: 1, source: 'subscription' },
    ]);
  });

  it('memberships are bounded by their from/to, and a membership of a removed group opens nothing', () => {
    const { index } = site();
    index.putPerson(person(1, '1001', { memberships: [{ group: 'staff', from: NOON, to: NOON + H }, { group: 'gone', from: -Infinity, to: Infinity }] }));
    expect(decideCard(index, '1001', 'front', NOON - 1).reason).toBe('outside_window');
    expect(decideCard(index, '1001', 'front', NOON).reason).toBe('granted');
    expect(decideCard(index, '1001', 'front', NOON + H).reason).toBe('outside_window');
    expect(index.stats().grants).toBe(1);
  });

  it('lockdown denies everyone but members of an override group, while their membership lasts', () => {
    const { index } = site();
    index.putPerson(person(1, '1001', { memberships: [{ group: 'staff', from: -Infinity, to: Infinity }] }));
    index.putPerson(person(2, '2002', { memberships: [{ group: 'security', from: -Infinity, to: NOON + H }] }));
    index.putPerson(person(3, '3003', { cards: [{ number: '3003', active: false }], memberships: [{ group: 'security', from: -Infinity, to: Infinity }] }));
    expect(decideCard(index, '1001', 'front', NOON, lockedDown)).toEqual({ result: 'denied', reason: 'lockdown', personId: 1 });
    expect(decideCard(index, '9999', 'front', NOON, lockedDown)).toEqual({ result: 'denied', reason: 'lockdown', personId: null });
    expect(decideCard(index, '2002', 'lab', NOON, lockedDown)).toMatchObject({ result: 'granted', source: 'group' });
    expect(decideCard(index, '2002', 'lab', NOON + H, lockedDown).reason).toBe('lockdown'); // the override ended with the membership
    // An override member's other rules still apply: a disabled card stays disabled.
    expect(decideCard(index, '3003', 'lab', NOON, lockedDown).reason).toBe('credential_disabled');
    expect(decidePerson(index, 1, 'front', NOON, lockedDown).reason).toBe('lockdown');
    expect(decideCard(index, '1001', 'front', NOON).reason).toBe('granted'); // lockdown lifted: the caller's state
    expect(index.lockdownOverride(2, NOON)).toBe(true);
    expect(index.lockdownOverride(1, NOON)).toBe(false);
  });

  it('anti-passback: hard denies, soft grants with an event; first-person-in is told of grants with the privilege', () => {
    const { index } = site();
    index.putPerson(person(1, '1001', { memberships: [{ group: 'security', from: -Infinity, to: Infinity }] }));
    index.putPerson(person(2, '2002', { memberships: [{ group: 'staff', from: -Infinity, to: Infinity }] }));
    const verdicts = new Map<string, 'ok' | 'soft' | 'hard'>([['in-hard', 'hard'], ['in-soft', 'soft']]);
    const told: [string, boolean, number][] = [];
    const asked: [number, string][] = [];
    const ctx: PolicyContext = {
      site: { lockdown: false },
      antiPassback: {
        check: (personId, readerId) => {
          asked.push([personId, readerId]);
          return verdicts.get(readerId) ?? 'ok';
        },
      },
      firstPersonIn: { onGranted: (door, privileged, at) => told.push([door, privileged, at]) },
    };
    const slot = decisionSlot();
    expect(decideCardInto(slot, index, '1001', 'front', NOON, ctx, 'in-hard')).toMatchObject({ result: 'denied', reason: 'antipassback', personId: 1, event: null });
    expect(decideCardInto(slot, index, '1001', 'front', NOON, ctx, 'in-soft')).toMatchObject({ result: 'granted', reason: 'granted', event: 'antipassback_soft' });
    expect(decideCardInto(slot, index, '2002', 'front', NOON, ctx, 'in-plain')).toMatchObject({ result: 'granted', event: null });
    // A read denied before the windows never reaches anti-passback.
    expect(decideCardInto(slot, index, '2002', 'front', EVENING, ctx, 'in-hard').reason).toBe('outside_schedule');
    expect(asked).toEqual([[1, 'in-hard'], [1, 'in-soft'], [2, 'in-plain']]);
    expect(told).toEqual([
      ['front', true, NOON],
      ['front', false, NOON],
    ]);
  });

  it('member tokens: unknown subject, suspension, revocation, withdrawn cards, then the same rules as a card', () => {
    const subjectOf = (email: string) => ({ hi: email.length, lo: email.charCodeAt(0) });
    const index = new AccessIndex({ subjectOf });
    index.setModel(model, new ListedSchedules({ office: [[DAY + 8 * H, DAY + 18 * H]] }));
    index.setDoors(['front']);
    const grants = [{ door: 'front', from: -Infinity, to: Infinity }];
    index.putPerson({ ...person(1, '1001', { grants }), email: 'ana@x', tokensValidAfter: NOON });
    index.putPerson({ ...person(2, '2002', { grants }), email: 'bo@x', active: false });
    index.putPerson({ ...person(3, '3003', { grants, validTo: NOON }), email: 'cy@x', cards: [{ number: '3003', active: false }] });
    index.putPerson({ ...person(4, '4004', { grants, validTo: NOON }), email: 'dee@x' });
    const slot = decisionSlot();
    const member = (email: string, issuedAt: number, ctx?: PolicyContext) =>
      ({ ...decideMemberInto(slot, index, subjectOf(email), issuedAt, 'front', NOON, ctx) });
    expect(member('zed@x', NOON).reason).toBe('unknown_credential');
    expect(member('ana@x', NOON - 1)).toMatchObject({ reason: 'token_revoked', personId: 1 });
    expect(member('ana@x', NOON)).toMatchObject({ result: 'granted', personId: 1 });
    expect(member('bo@x', NOON).reason).toBe('person_suspended');
    expect(member('cy@x', NOON).reason).toBe('credential_disabled');
    expect(member('dee@x', NOON).reason).toBe('person_expired');
    expect(member('ana@x', NOON, lockedDown).reason).toBe('lockdown');
    expect({ ...decideMemberInto(slot, index, subjectOf('ana@x'), NOON, 'nowhere', NOON) }.reason).toBe('door_unknown');
  });

  it('a card moved to another person takes its rule along; a removed person leaves no rule behind', () => {
    const { index } = site();
    index.putPerson(person(1, '1001', { cards: [{ number: '1001', active: false, state: 'lost' }] }));
    expect(decideCard(index, '1001', 'front', NOON).reason).toBe('credential_lost');
    index.putPerson(person(2, '1001', { grants: [{ door: 'front', from: -Infinity, to: Infinity }] }));
    index.putPerson(person(1, '7007'));
    expect(decideCard(index, '1001', 'front', NOON)).toEqual({ result: 'granted', reason: 'granted', personId: 2 });
    index.putPerson(person(3, '3003', { cards: [{ number: '3003', active: true, validTo: NOON }] }));
    index.removePerson(3);
    index.putPerson(person(4, '3003', { grants: [{ door: 'front', from: -Infinity, to: Infinity }] }));
    expect(decideCard(index, '3003', 'front', NOON).reason).toBe('granted');
  });

  it('refuses inputs that would fail open or that it cannot hold, leaving the person as they were', () => {
    const { index } = site();
    index.putPerson(person(1, '1001', { grants: [{ door: 'front', from: -Infinity, to: Infinity }] }));
    expect(() => index.putPerson(person(1, '1001', { validFrom: NaN }))).toThrow(/not a number/);
    expect(() => index.putPerson(person(1, '1001', { cards: [{ number: '1001', active: true, validTo: NaN }] }))).toThrow(/not a number/);
    expect(() => index.putPerson(person(1, '1001', { grants: [{ door: 'front', from: 0, to: 1, schedule: 'unknown' }] }))).toThrow(/unknown schedule/);
    expect(decideCard(index, '1001', 'front', NOON).reason).toBe('granted');
    const bare = new AccessIndex();
    bare.setDoors(['front']);
    expect(() => bare.putPerson(person(1, '1', { grants: [{ door: 'front', from: 0, to: 1, schedule: 'office' }] }))).toThrow(/no model/);
    expect(() => index.setModel(model, new ListedSchedules({}))).toThrow(/already holds people/);
  });
});
