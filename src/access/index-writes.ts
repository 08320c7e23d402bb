import type { AccessIndex } from './access-index.js';
import { cardFromKeyParts } from './card-keys.js';
import { privilegesOf } from './derive.js';
import type { PersonInput } from './index-inputs.js';
import { ALWAYS } from './model.js';
import * as layout from './record-layout.js';
import { newRecordPlan, plannedSize, planRecord, writeRecord } from './record-writer.js';
import { cardRuleOf, cardStateOf } from './side-tables.js';
import { countWindows } from './window-match.js';

/*
 * The build and refresh side of AccessIndex: putting and removing people, clearing. The index
 * delegates these here and keeps its lookups as its own methods: the decision (decide.ts) calls
 * those, and they stay small, monomorphic and inlinable, while the writes are long and run
 * from the loader and the change watcher, where a call more costs nothing measurable.
 */

/** The one plan every put fills (record-writer.ts): used up before the next put, never kept. */
const scratchPlan = newRecordPlan();

/** Each index's two lookups for planRecord, made once rather than as two closures a put. */
const lookupsOf = new WeakMap<AccessIndex, { slot: (schedule: string | null) => number; door: (door: string) => number }>();

function lookups(ix: AccessIndex): { slot: (schedule: string | null) => number; door: (door: string) => number } {
  let l = lookupsOf.get(ix);
  if (l === undefined) {
    l = { slot: (schedule) => slotOf(ix, schedule), door: (door) => ix.doors.numberOf(door) };
    lookupsOf.set(ix, l);
  }
  return l;
}

/** Replaces everything known about one person, dropping cards they no longer hold. */
export function putPersonInto(ix: AccessIndex, input: PersonInput): void {
  // Planned (and refused, if it must be) before the person's old record is touched.
  const l = lookups(ix);
  const plan = planRecord(input, ix.groupDoors, l.slot, l.door, scratchPlan);
  const subject = ix.subjectOf === undefined ? null : (input.subject ?? (input.email !== undefined ? ix.subjectOf(input.email) : null));
  removePersonFrom(ix, input.id);
  const record = ix.pool.alloc(plannedSize(plan, subject));
  writeRecord(ix.pool.data, ix.pool.words, record, input.id, subject, plan);
  ix.records.set(input.id, record);
  if (input.tokensValidAfter !== 0) ix.tokensAfter.set(input.id, input.tokensValidAfter);
  if (subject !== null) ix.subjects.add(subject, record, input.id, (r) => ix.recordPersonId(r));
  // Kept: a copy, the scratch's array is the next put's.
  if (plan.otherCount > 0) ix.otherCards.set(input.id, plan.others.slice(0, plan.otherCount));
  if (input.memberships !== undefined && ix.groups !== null) ix.privileges.set(input.id, privilegesOf(input.memberships, ix.groups));
  ix.grantCount += plan.windowCount;
  for (const c of input.cards) {
    // A number is held by one person in one state (UNIQUE in SQLite); clear any stale entry.
    ix.activeCards.delete(c.number);
    ix.disabledCards.delete(c.number);
    if (ix.cardRules.size > 0) ix.cardRules.delete(c.number);
    (cardStateOf(c) === 'active' ? ix.activeCards : ix.disabledCards).set(c.number, record);
    const rule = cardRuleOf(input.id, c);
    if (rule !== null) ix.cardRules.set(c.number, rule);
  }
}

export function removePersonFrom(ix: AccessIndex, id: number): void {
  const record = ix.records.get(id);
  if (record === undefined) return;
  const data = ix.pool.data;
  const flags = data[record + 1]!;
  const start = layout.windowsAt(record, flags);
  const span = layout.windowSpan(flags);
  const cards = layout.cardCount(flags);
  const hasSubject = layout.flagSet(flags, layout.HAS_SUBJECT);
  if (hasSubject) {
    const words = ix.pool.words;
    const at = layout.subjectAt(record, flags);
    const subject = { hi: words[2 * at]!, lo: words[2 * at + 1]! };
    ix.subjects.remove(subject, record, id, (other) => ix.records.get(other)!);
  }
  ix.tokensAfter.delete(id);
  ix.privileges.delete(id);
  const firstKey = start + span;
  for (let i = firstKey; i < firstKey + 2 * cards; i += 2) dropCard(ix, cardFromKeyParts(data[i]!, data[i + 1]!), record, id);
  for (const number of ix.otherCards.get(id) ?? []) dropCard(ix, number, record, id);
  ix.otherCards.delete(id);
  ix.grantCount -= countWindows(data, start, start + span);
  ix.records.delete(id);
  ix.pool.free(record, layout.recordSize(span, cards, layout.flagSet(flags, layout.HAS_VALIDITY), hasSubject));
}

/** Forgets every person; the doors and the model stay. */
export function clearPeople(ix: AccessIndex): void {
  ix.activeCards.clear();
  ix.disabledCards.clear();
  ix.subjects.clear();
  ix.tokensAfter.clear();
  ix.cardRules.clear();
  ix.privileges.clear();
  ix.records.clear();
  ix.otherCards.clear();
  ix.pool.clear();
  ix.grantCount = 0;
}

/** Removes a card's entries only if they still point at this record (it may have moved on). */
function dropCard(ix: AccessIndex, number: string, record: number, owner: number): void {
  if (ix.activeCards.get(number) === record) ix.activeCards.delete(number);
  if (ix.disabledCards.get(number) === record) ix.disabledCards.delete(number);
  ix.cardRules.dropIfOwned(number, owner);
}

function slotOf(ix: AccessIndex, schedule: string | null): number {
  if (schedule === null) return ALWAYS;
  if (ix.states === null) throw new Error(`a window names schedule ${schedule} but the index has no model (setModel)`);
  return ix.states.slotOf(schedule);
}
