import { CARD_STATES, PERSON_ACTIVE, PERSON_ODD, PERSON_STORED_SUBJECT, type PackedPage } from './index-load-format.js';

/*
 * Rows of people, cards, grants and memberships (in person order) into one PackedPage: shared by
 * the first start's load worker (index-load-worker.ts) and the change refresher's
 * (index-refresh-worker.ts), so both hand the main thread the same page and one fill reads it.
 * Imports nothing of the gateway but the format: it runs inside workers.
 */

export type Value = number | string | null | bigint | Buffer;

/** What the packing needs of the job: which stored subjects the index takes, whether it hashes emails. */
export interface PackOptions {
  keyId: number | null;
  wantEmails: boolean;
}

/** A value an SQLite INTEGER column holds, or NULL as NaN (SQLite stores no NaN). Anything else: undefined. */
function num(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  return v === null ? NaN : undefined;
}

/** The page's buffers, to transfer rather than copy. */
export function pageBuffers(page: PackedPage): ArrayBuffer[] {
  return [page.ids.buffer, page.flags.buffer, page.numbers.buffer, page.subjects.buffer, page.cardCounts.buffer, page.cardStates.buffer, page.cardBounds.buffer, page.grantCounts.buffer, page.grantDoors.buffer, page.grantBounds.buffer];
}

export function packPage(job: PackOptions, rows: Value[][], cards: Value[][], grants: Value[][], memberships: PackedPage['memberships']): PackedPage {
  const n = rows.length;
  const page: PackedPage = {
    ids: new Float64Array(n),
    flags: new Uint8Array(n),
    /** tokensValidAfter, validFrom, validTo a person (NaN: NULL). */
    numbers: new Float64Array(3 * n),
    subjects: new Uint32Array(2 * n),
    emails: [],
    cardCounts: new Uint32Array(n),
    cardStrings: [],
    cardStates: new Uint8Array(cards.length),
    cardBounds: new Float64Array(2 * cards.length),
    grantCounts: new Uint32Array(n),
    doorNames: [],
    grantDoors: new Uint32Array(grants.length),
    grantBounds: new Float64Array(2 * grants.length),
    memberships,
  };
  const doorIndex = new Map<string, number>();
  let c = 0;
  let g = 0;
  for (let i = 0; i < n; i++) {
    const [id, email, state, tokensValidAfter, hi, lo, key, validFrom, validTo] = rows[i]!;
    page.ids[i] = id as number;
    const tva = num(tokensValidAfter!);
    const from = num(validFrom!);
    const to = num(validTo!);
    let flags = state === 'active' ? PERSON_ACTIVE : 0;
    if (tva === undefined || from === undefined || to === undefined || typeof id !== 'number') flags |= PERSON_ODD;
    page.numbers[3 * i] = tva ?? 0;
    page.numbers[3 * i + 1] = from ?? NaN;
    page.numbers[3 * i + 2] = to ?? NaN;
    // usableSubject (subject-columns.ts), and halves a Uint32Array holds as they are.
    if (job.keyId !== null && key === job.keyId && hi !== null && lo !== null) {
      if (typeof hi === 'number' && typeof lo === 'number' && hi >>> 0 === hi && lo >>> 0 === lo) {
        flags |= PERSON_STORED_SUBJECT;
        page.subjects[2 * i] = hi;
        page.subjects[2 * i + 1] = lo;
      } else {
        flags |= PERSON_ODD;
      }
    }
    if (job.wantEmails && (flags & PERSON_STORED_SUBJECT) === 0) page.emails.push(email as string);
    let nc = 0;
    for (; c < cards.length && cards[c]![0] === id; c++, nc++) {
      const [, number, cardState, cardFrom, cardTo] = cards[c]!;
      const f = num(cardFrom!);
      const t = num(cardTo!);
      const st = (CARD_STATES as readonly string[]).indexOf(cardState as string);
      if (f === undefined || t === undefined || typeof number !== 'string' || st < 0) flags |= PERSON_ODD;
      page.cardStrings.push(String(number));
      page.cardStates[c] = st;
      page.cardBounds[2 * c] = f ?? NaN;
      page.cardBounds[2 * c + 1] = t ?? NaN;
    }
    page.cardCounts[i] = nc;
    let ng = 0;
    for (; g < grants.length && grants[g]![0] === id; g++, ng++) {
      const [, door, grantFrom, grantTo] = grants[g]!;
      const f = num(grantFrom!);
      const t = num(grantTo!);
      if (f === undefined || t === undefined || typeof door !== 'string') flags |= PERSON_ODD;
      let d = doorIndex.get(door as string);
      if (d === undefined) {
        d = page.doorNames.push(String(door)) - 1;
        doorIndex.set(door as string, d);
      }
      page.grantDoors[g] = d;
      page.grantBounds[2 * g] = f ?? NaN;
      page.grantBounds[2 * g + 1] = t ?? NaN;
    }
    page.grantCounts[i] = ng;
    page.flags[i] = flags;
  }
  // Rows of a person the page does not hold (cannot happen under the foreign keys): say so, do not drop them.
  if (c !== cards.length || g !== grants.length) throw new Error('index load: cards or grants out of person order');
  return page;
}
