import { CARD_FORMATS } from '../config/schema.js';
import type { CardBatch, CardStreamEnd, CardStreamMessage } from './card-batches.js';
import { IMPORT_BATCH, isEmpty, type ImportSummary } from './card-import.js';
import { boundOrNull, CARD_STATES, CardImportError, Column } from './card-rows.js';
import { prepareCached as cached } from './db.js';
import { staffImportSourceId } from './grants-repository.js';
import type { Store, Tx } from './store.js';

/*
 * The writing side of the streamed card list: the batches another thread parses
 * (card-batches.ts) applied as they come, in ONE write transaction, so that a batch's SQL runs
 * while the next is parsed (the two were a 3.4 s and a 6.2 s phase one after the other at a
 * million rows, BENCHMARKS.md issue 10). It means what applyCardRows means:
 * - all or nothing: any row problem, read at the end of the parse, or any card stored for
 *   another person rolls the whole transaction back; the problems are reported as the two-step
 *   import reports them (row problems first; every conflicting card otherwise);
 * - the checks compare with what was stored before the import: only cards new to the file are
 *   looked up, before their batch is written, and the people whose tokens are voided are those
 *   with a card stored active whose final state in the file is not (read back at the end);
 * - a person's earlier staff grants and memberships go when the person is first met, before
 *   any of the file's own are written.
 * One difference, in updated_at only: a stored person the file names otherwise and then, in a
 * later batch, by the stored name again is renamed twice instead of not at all.
 * `next` blocks until the parsing thread's next message (cli/cards-import-worker.ts); the
 * transaction starts with the first one, so the write lock is not held while the parse starts.
 */

export function applyCardStream(store: Store, next: () => CardStreamMessage, now: number): ImportSummary {
  const first = next();
  return store.transact((tx) => new StreamWriter(tx, now).run(first, next), { immediate: true });
}

class StreamWriter {
  /** Ids of the file's people by index (ids.get(p)). */
  private readonly ids = new Column(new Float64Array(IMPORT_BATCH));
  private lastId: number;
  // What a first import does not need to look up or replace, as in card-import.ts.
  private readonly anyone: boolean;
  private readonly anyCard: boolean;
  private readonly anyGrant: boolean;
  private readonly anyMembership: boolean;
  private readonly conflicts: string[] = [];
  /** [card number, person index] of cards stored active before the import (and the same person's). */
  private readonly wasActive: [string, number][] = [];

  constructor(
    private readonly tx: Tx,
    private readonly now: number,
  ) {
    this.lastId = tx.people.lastId();
    this.anyone = !isEmpty(tx, 'people');
    this.anyCard = !isEmpty(tx, 'credentials');
    this.anyGrant = !isEmpty(tx, 'grants');
    this.anyMembership = !isEmpty(tx, 'person_groups');
  }

  run(first: CardStreamMessage, next: () => CardStreamMessage): ImportSummary {
    for (let m = first; ; m = next()) {
      if ('failed' in m) throw Object.assign(new Error(m.failed.message), m.failed.code === undefined ? {} : { code: m.failed.code });
      if ('end' in m) return this.finish(m.end);
      this.apply(m.batch);
    }
  }

  private apply(b: CardBatch): void {
    if (b.peopleStart !== this.ids.length) throw new Error(`card batches out of order: people from ${b.peopleStart}, expected ${this.ids.length}`);
    const tx = this.tx;
    this.writePeople(b);
    this.checkCards(b);
    // After a conflict nothing more is written: the file is rejected, its cards are still checked for the report.
    if (this.conflicts.length > 0) return;
    // A later row's name for someone met in an earlier batch; unchanged from what is stored, nothing is written (nor logged).
    for (const [p, name] of b.renamed) cached(tx.db, 'UPDATE people SET name = ?, updated_at = ? WHERE id = ? AND name IS NOT ?').run(name, this.now, this.ids.get(p), name);
    const cards: [number, string, string, (typeof CARD_STATES)[number]][] = [];
    for (let c = 0; c < b.cardNumbers.length; c++) {
      cards.push([this.ids.get(b.cardPerson[c]!), b.cardNumbers[c]!, CARD_FORMATS[b.cardFormat[c]!]!, CARD_STATES[b.cardState[c]!]!]);
    }
    if (cards.length > 0) tx.credentials.upsertMany(cards, this.now);
    const earlier = new Map(b.earlier);
    const emailOf = (p: number) => (p >= b.peopleStart ? b.emails[p - b.peopleStart]! : earlier.get(p)!);
    if (this.anyGrant && b.emails.length > 0) tx.grants.dropStaffImports(b.emails);
    const grants: [number, string, number | null, number | null, string][] = [];
    for (let g = 0; g < b.grantPerson.length; g++) {
      grants.push([this.ids.get(b.grantPerson[g]!), b.grantDoor[g]!, boundOrNull(b.grantFrom[g]!), boundOrNull(b.grantTo[g]!), emailOf(b.grantPerson[g]!)]);
    }
    if (grants.length > 0) tx.grants.insertStaffImports(grants);
    if (this.anyMembership && b.emails.length > 0) tx.groups.dropStaffOf(Array.from({ length: b.emails.length }, (_, k) => this.ids.get(b.peopleStart + k)));
    const members: [number, string, number | null, number | null, string][] = [];
    for (let m = 0; m < b.memberPerson.length; m++) {
      members.push([this.ids.get(b.memberPerson[m]!), b.memberGroup[m]!, boundOrNull(b.memberFrom[m]!), boundOrNull(b.memberTo[m]!), staffImportSourceId(emailOf(b.memberPerson[m]!))]);
    }
    if (members.length > 0) tx.groups.insertStaff(members);
  }

  /** Ids for the batch's new people: stored ones found (renamed when the row names them otherwise), the others created after the highest id. */
  private writePeople(b: CardBatch): void {
    const tx = this.tx;
    const found = new Float64Array(b.emails.length);
    if (this.anyone) {
      for (const [k, id, name] of tx.people.findMany(b.emails)) {
        found[k] = id;
        const wanted = b.names[k]!;
        if (wanted !== null && wanted !== name && this.conflicts.length === 0) tx.people.rename(id, wanted, this.now);
      }
    }
    const fresh: [number, string, string | null, number | null, number | null][] = [];
    for (let k = 0; k < b.emails.length; k++) {
      if (found[k] !== 0) {
        this.ids.push(found[k]!);
        continue;
      }
      const subject = b.hi === undefined || b.lo === undefined ? tx.people.subjectOf(b.emails[k]!) : { hi: b.hi[k]!, lo: b.lo[k]! };
      this.ids.push(++this.lastId);
      fresh.push([this.lastId, b.emails[k]!, b.names[k]!, subject?.hi ?? null, subject?.lo ?? null]);
    }
    if (fresh.length > 0 && this.conflicts.length === 0) tx.people.insertNumbered(fresh, this.now);
  }

  /** The batch's new cards against the stored ones, before any of them is written. */
  private checkCards(b: CardBatch): void {
    if (!this.anyCard || b.fresh === 0) return;
    for (const [key, state, owner] of this.tx.credentials.ownersOf(b.cardNumbers.slice(0, b.fresh))) {
      const person = b.cardPerson[key]!;
      if (owner !== this.ids.get(person)) this.conflicts.push(`line ${b.cardLine[key]}: card: card number already belongs to another person`);
      else if (state === 'active') this.wasActive.push([b.cardNumbers[key]!, person]);
    }
  }

  private finish(end: CardStreamEnd): ImportSummary {
    if (end.problems.length > 0) throw new CardImportError(end.problems);
    if (this.conflicts.length > 0) throw new CardImportError(this.conflicts);
    // The file's final state of each card that was active: now what is stored.
    const revoke = new Set<number>();
    for (let i = 0; i < this.wasActive.length; i += IMPORT_BATCH) {
      const batch = this.wasActive.slice(i, i + IMPORT_BATCH);
      for (const [key, state] of this.tx.credentials.ownersOf(batch.map(([n]) => n))) if (state !== 'active') revoke.add(batch[key]![1]);
    }
    for (const person of revoke) this.tx.people.revokeTokens(this.ids.get(person), this.now);
    const summary: ImportSummary = { people: end.people, cards: end.cardRows, staffGrants: end.staffGrants };
    if (end.groupsColumn) summary.memberships = end.memberships;
    return summary;
  }
}
