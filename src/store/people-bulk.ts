import { CredentialConflictError } from './credentials-repository.js';
import { checkedPerson, checkPeriod, writeCard, writePerson, type CardInput, type ChangeContext, type PersonInput } from './people-admin.js';
import { insertNewPeople } from './people-bulk-insert.js';
import type { Store } from './store.js';

/*
 * Many people with their cards in one transaction, all or nothing: the bulk adapter over the
 * same use cases as a single PUT (writePerson, writeCard), so a record means in bulk exactly
 * what it means alone. Every line is checked before the transaction opens; a line that can only
 * fail against the stored data (a card someone else holds) rolls the whole transaction back.
 * Each refusal names its line, so a platform fixes the lines and sends the batch again.
 */

export interface BulkRecord extends PersonInput {
  email: string;
  /** The person's cards, canonical numbers; cards they hold but not listed here are kept. */
  cards: (CardInput & { number: string })[];
}

export interface LineError {
  /** 1-based: the NDJSON line, or the array element's position. */
  line: number;
  code: string;
  field?: string;
  message: string;
}

export interface BulkSummary {
  people: number;
  created: number;
  changed: number;
  cards: number;
}

/** The whole bulk was refused: nothing was written; `errors` says which lines (at most MAX_REPORTED). */
export class BulkRefusedError extends Error {
  readonly code = 'bulk_refused';
  constructor(
    readonly errors: LineError[],
    readonly total: number,
  ) {
    super(`${total} line(s) refused; nothing was written`);
    this.name = 'BulkRefusedError';
  }
}

/** Errors listed in a refusal: enough to fix a batch, never a 100,000-entry answer. */
export const MAX_REPORTED = 100;

const coded = (err: unknown): { code: string; field?: string; message: string } | undefined => {
  const e = err as { code?: unknown; field?: unknown; message?: unknown };
  if (typeof e?.code !== 'string' || typeof e.message !== 'string') return undefined;
  return { code: e.code, message: e.message, ...(typeof e.field === 'string' ? { field: e.field } : {}) };
};

/** `records[i]` came from line `lines[i]`; `errors` are the lines that already failed to parse (then nothing is written). */
export function applyBulk(store: Store, records: readonly BulkRecord[], lines: readonly number[], ctx: ChangeContext, knownGroups: ReadonlySet<string>, errors: LineError[] = []): BulkSummary {
  const checked: BulkRecord[] = [];
  const emails = new Map<string, number>();
  const cards = new Map<string, number>();
  records.forEach((r, i) => {
    const line = lines[i]!;
    const refuse = (code: string, message: string, field?: string) => errors.push({ line, code, message, ...(field === undefined ? {} : { field }) });
    if (emails.has(r.email)) return refuse('duplicate_email', `the same person as line ${emails.get(r.email)}`, 'email');
    emails.set(r.email, line);
    for (const c of r.cards) {
      if (cards.has(c.number)) return refuse('duplicate_card', `the same card as line ${cards.get(c.number)}`, 'cards');
      cards.set(c.number, line);
    }
    try {
      r.cards.forEach((c, k) => checkPeriod(c.validFrom, c.validTo, `cards.${k}.validTo`));
      checked.push({ ...r, ...checkedPerson(r, knownGroups, 'line') });
    } catch (err) {
      const c = coded(err);
      if (!c) throw err;
      refuse(c.code, c.message, c.field?.replace(/^line\./, ''));
    }
  });
  if (errors.length > 0) throw new BulkRefusedError(errors.slice(0, MAX_REPORTED), errors.length);
  return store.transact((tx) => {
    const summary: BulkSummary = { people: checked.length, created: 0, changed: 0, cards: 0 };
    const stored = new Set<number>();
    for (let i = 0; i < checked.length; i += 5_000) {
      for (const [k] of tx.people.findMany(checked.slice(i, i + 5_000).map((r) => r.email))) stored.add(i + k);
    }
    const conflicts: LineError[] = [];
    // People already stored: compared and written one at a time, as a PUT would.
    checked.forEach((r, i) => {
      if (!stored.has(i)) return;
      const w = writePerson(tx, r.email, r, ctx);
      if (w.changed) summary.changed++;
      for (const c of r.cards) {
        try {
          writeCard(tx, { id: w.id, email: r.email }, c.number, c, ctx);
          summary.cards++;
        } catch (err) {
          if (!(err instanceof CredentialConflictError)) throw err;
          conflicts.push({ line: lines[i]!, code: 'card_conflict', field: 'cards', message: 'a card of this line already belongs to another person' });
        }
      }
    });
    // New people: nothing to compare with, so set-based (people-bulk-insert.ts).
    const fresh = checked.flatMap((r, i) => (stored.has(i) ? [] : [[r, lines[i]!] as const]));
    const inserted = insertNewPeople(tx, fresh.map(([r]) => r), fresh.map(([, l]) => l), ctx);
    conflicts.push(...inserted.conflicts);
    summary.created = fresh.length;
    summary.cards += inserted.cards;
    // Thrown inside the transaction: it rolls back, so the refusal leaves nothing behind.
    if (conflicts.length > 0) throw new BulkRefusedError(conflicts.sort((a, b) => a.line - b.line).slice(0, MAX_REPORTED), conflicts.length);
    return summary;
    // IMMEDIATE: it reads first, and the gateway's audit rows commit meanwhile; a deferred one would then fail at its first write.
  }, { immediate: true });
}
