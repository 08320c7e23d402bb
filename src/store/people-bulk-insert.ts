import { maskCredential } from '../util/mask.js';
import { prepareCached as cached } from './db.js';
import { staffImportSourceId } from './grants-repository.js';
import { setMemberState } from './member-admin.js';
import type { ChangeContext } from './people-admin.js';
import type { BulkRecord, LineError } from './people-bulk.js';
import type { Tx } from './store.js';

/*
 * The bulk's people who do not exist yet, written set-based: one statement per table per
 * batch over a JSON array, as the card list's import does, instead of a person at a time. A
 * new person has nothing stored to compare with, so each record is exactly what the
 * one-at-a-time path (writePerson, writeCard) would write: the same rows, the same audit rows.
 * What only some records carry (a suspension, a validity) is written per record.
 */

const BATCH = 5_000;

function inBatches<T>(items: readonly T[], fn: (batch: readonly T[]) => void): void {
  for (let i = 0; i < items.length; i += BATCH) fn(items.slice(i, i + BATCH));
}

/** Change-audit rows of one actor at one instant, given as [action, target, detail JSON]. */
function auditMany(tx: Tx, ctx: ChangeContext, rows: readonly [string, string, string][]): void {
  inBatches(rows, (batch) =>
    cached(tx.db, 'INSERT INTO change_audit (at, actor, action, target, detail) SELECT @at, @actor, j.value->>0, j.value->>1, j.value->>2 FROM json_each(@rows) j ORDER BY j.key').run({
      at: ctx.now,
      actor: ctx.actor,
      rows: JSON.stringify(batch),
    }),
  );
}

/**
 * Creates `records` (none of them stored; their emails and cards unique within the bulk, as
 * applyBulk checks). Returns the lines whose cards belong to someone already stored: the caller
 * rolls the whole transaction back on any.
 */
export function insertNewPeople(tx: Tx, records: readonly BulkRecord[], lines: readonly number[], ctx: ChangeContext): { cards: number; conflicts: LineError[] } {
  const numbers = records.flatMap((r, i) => r.cards.map((c) => [c.number, i] as const));
  const conflicts: LineError[] = [];
  inBatches(numbers, (batch) => {
    for (const [k] of tx.credentials.holdersOf(batch.map(([n]) => n))) {
      conflicts.push({ line: lines[batch[k]![1]]!, code: 'card_conflict', field: 'cards', message: 'a card of this line already belongs to another person' });
    }
  });
  if (conflicts.length > 0) return { cards: 0, conflicts };

  const ids: number[] = new Array<number>(records.length);
  inBatches(
    records.map((r, i) => [r, i] as const),
    (batch) => {
      const rows = batch.map(([r]) => {
        const subject = tx.people.subjectOf(r.email);
        return [r.email, r.name, subject?.hi ?? null, subject?.lo ?? null] as [string, string | null, number | null, number | null];
      });
      const made = tx.people.insertMany(rows, ctx.now);
      made.forEach(([id], k) => (ids[batch[k]![1]] = id));
    },
  );
  const audit: [string, string, string][] = [];
  records.forEach((r, i) => {
    const id = ids[i]!;
    const changed: string[] = [];
    if (r.state !== 'active' && setMemberState(tx, tx.people.byId(id)!, r.state, ctx.now)) changed.push('state');
    if (r.validFrom !== null || r.validTo !== null) {
      tx.people.setValidity(id, { from: r.validFrom, to: r.validTo }, ctx.now);
      changed.push('validity');
    }
    if (r.groups.length > 0) changed.push('groups');
    audit.push(['person.create', r.email, JSON.stringify({ changed })]);
  });
  inBatches(
    records.flatMap((r, i) => r.groups.map((g) => [ids[i]!, g.group, g.validFrom, g.validTo, staffImportSourceId(r.email)] as [number, string, number | null, number | null, string])),
    (batch) => tx.groups.insertStaff(batch),
  );
  const cards = records.flatMap((r, i) => r.cards.map((c) => ({ id: ids[i]!, email: r.email, ...c })));
  inBatches(cards, (batch) => tx.credentials.upsertMany(batch.map((c) => [c.id, c.number, c.format, c.state]), ctx.now));
  for (const c of cards) {
    const changed = ['created'];
    if (c.validFrom !== null || c.validTo !== null) {
      tx.credentials.setValidity(c.number, { from: c.validFrom, to: c.validTo }, ctx.now);
      changed.push('validity');
    }
    audit.push([`card.${c.state}`, `${c.email} ${maskCredential(c.number)}`, JSON.stringify({ changed })]);
  }
  auditMany(tx, ctx, audit);
  return { cards: cards.length, conflicts };
}
