import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { CARD_STATES, PERSON_ACTIVE as ACTIVE, PERSON_ODD as ODD, PERSON_STORED_SUBJECT as STORED_SUBJECT, type LoadJob, type LoadMessage, type PackedPage } from './index-load-format.js';

/*
 * The worker side of the first start's load (index-load-pages.ts, format in index-load-format.ts): reads every page of people,
 * cards, grants and memberships in ONE read transaction on its own read-only connection, so the
 * pages are one snapshot of the database and the change-log seq read first in that transaction
 * is exactly what they are consistent with. Each page goes to the main thread as typed arrays
 * (transferred, not copied) plus the page's strings; the main thread fills the index while this
 * thread reads the next page, so SQLite's row-to-JS cost (the bulk of a load) runs on the other
 * core. It imports nothing of the gateway: a worker starts in a few tens of milliseconds.
 */

const job = workerData as LoadJob;
const port = parentPort!;
/** [pages posted, pages the main thread has filled]: the worker keeps at most `ahead` pages in flight. */
const flow = new Int32Array(job.flow);

type Value = number | string | null | bigint | Buffer;

/** A value an SQLite INTEGER column holds, or NULL as NaN (SQLite stores no NaN). Anything else: undefined. */
function num(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  return v === null ? NaN : undefined;
}

function post(message: LoadMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function run(): void {
  const db = new Database(job.file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('BEGIN').run();
    // The first read starts the snapshot: the seq and every page below come from it.
    const seq = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'change_log'").pluck().get() as number | undefined) ?? 0;
    const doors = db.prepare('SELECT id FROM doors').pluck().all() as string[];
    const [people, activeCards] = db.prepare("SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM credentials WHERE state = 'active')").raw().get() as [number, number];
    const anyMemberships = db.prepare('SELECT EXISTS (SELECT 1 FROM person_groups)').pluck().get() === 1;
    post({ kind: 'start', seq, doors, people, activeCards });
    const range = 'WHERE person_id > ? AND person_id <= ? ORDER BY person_id';
    const personStmt = db.prepare('SELECT id, email, state, tokens_valid_after, subject_hi, subject_lo, subject_key, valid_from, valid_to FROM people WHERE id > ? ORDER BY id LIMIT ?').raw();
    const cardStmt = db.prepare(`SELECT person_id, number, state, valid_from, valid_to FROM credentials ${range}`).raw();
    const grantStmt = db.prepare(`SELECT person_id, door_id, valid_from, valid_to FROM grants ${range}`).raw();
    const memberStmt = db.prepare(`SELECT person_id, group_id, valid_from, valid_to FROM person_groups ${range}`).raw();
    for (let after = -Infinity; ; ) {
      const rows = personStmt.all(after, job.batch) as Value[][];
      if (rows.length === 0) break;
      const last = rows[rows.length - 1]![0] as number;
      const cards = cardStmt.all(after, last) as Value[][];
      const grants = grantStmt.all(after, last) as Value[][];
      const memberships = anyMemberships ? (memberStmt.all(after, last) as [number, string, number | null, number | null][]) : [];
      // Not more than `ahead` pages wait for the main thread: the rows of a slow fill do not pile up here.
      while (Atomics.load(flow, 0) - Atomics.load(flow, 1) >= job.ahead) Atomics.wait(flow, 1, Atomics.load(flow, 1), 1000);
      const page = pack(rows, cards, grants, memberships);
      Atomics.add(flow, 0, 1);
      post({ kind: 'page', page }, [page.ids.buffer, page.flags.buffer, page.numbers.buffer, page.subjects.buffer, page.cardCounts.buffer, page.cardStates.buffer, page.cardBounds.buffer, page.grantCounts.buffer, page.grantDoors.buffer, page.grantBounds.buffer]);
      after = last;
    }
    db.prepare('COMMIT').run();
    post({ kind: 'end' });
  } finally {
    db.close();
  }
}

function pack(rows: Value[][], cards: Value[][], grants: Value[][], memberships: PackedPage['memberships']): PackedPage {
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
    let flags = state === 'active' ? ACTIVE : 0;
    if (tva === undefined || from === undefined || to === undefined || typeof id !== 'number') flags |= ODD;
    page.numbers[3 * i] = tva ?? 0;
    page.numbers[3 * i + 1] = from ?? NaN;
    page.numbers[3 * i + 2] = to ?? NaN;
    // usableSubject (subject-columns.ts), and halves a Uint32Array holds as they are.
    if (job.keyId !== null && key === job.keyId && hi !== null && lo !== null) {
      if (typeof hi === 'number' && typeof lo === 'number' && hi >>> 0 === hi && lo >>> 0 === lo) {
        flags |= STORED_SUBJECT;
        page.subjects[2 * i] = hi;
        page.subjects[2 * i + 1] = lo;
      } else {
        flags |= ODD;
      }
    }
    if (job.wantEmails && (flags & STORED_SUBJECT) === 0) page.emails.push(email as string);
    let nc = 0;
    for (; c < cards.length && cards[c]![0] === id; c++, nc++) {
      const [, number, cardState, cardFrom, cardTo] = cards[c]!;
      const f = num(cardFrom!);
      const t = num(cardTo!);
      const st = (CARD_STATES as readonly string[]).indexOf(cardState as string);
      if (f === undefined || t === undefined || typeof number !== 'string' || st < 0) flags |= ODD;
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
      if (f === undefined || t === undefined || typeof door !== 'string') flags |= ODD;
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

try {
  run();
} catch (err) {
  post({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
}
