import { Worker } from 'node:worker_threads';
import type { AccessIndex, CardInput, PersonInput } from '../access/access-index.js';
import type { Membership } from '../access/model.js';
import { builtEntry } from '../util/worker-entry.js';
import type { Db } from './db.js';
import { CARD_STATES, PERSON_ACTIVE, PERSON_ODD, PERSON_STORED_SUBJECT, type LoadJob, type LoadMessage, type PackedPage } from './index-load-format.js';
import { LOAD_BATCH, refreshPeople } from './index-loader.js';
import type { LoopSlice } from './index-rebuild.js';

/*
 * The first start's load from the tables, split over two threads: a worker reads the pages in
 * one read transaction (index-load-worker.ts) while this thread fills the index from the page
 * before. Reading three million rows into JS values is most of a load (~2.7 s of ~5 s at a
 * million people); here it runs beside the fill instead of before it. The index gets exactly
 * what loadIndex would give it from the same snapshot: the same PersonInput per person, in the
 * same order; a person with a value the typed arrays cannot carry is read by refreshPeople.
 */

/** Pages the worker reads ahead of the fill: enough to keep both threads busy, few enough to hold little. */
const AHEAD = 3;

/** Where the index is after a worker load: the change-log seq its snapshot was taken at. */
export interface WorkerLoad {
  seq: number;
}

export interface Scratch {
  person: PersonInput;
  windows: { door: string; from: number; to: number }[];
  cards: CardInput[];
  memberships: { group: string; from: number; to: number }[];
}

const NO_MEMBERSHIPS: Membership[] = [];
/** NaN is NULL (index-load-format.ts). */
const bound = (v: number): number | undefined => (Number.isNaN(v) ? undefined : v);

/** How a load beside live decisions fills its pages: `step` people between two looks at `slice`. */
export interface LoadPacing {
  slice: LoopSlice;
  step: number;
}

/**
 * Fills `index` (cleared first) from `dbFile` on a worker. `db` is the main connection, for the
 * rare person read by rows. Rejects when the worker fails; the index is then half-filled and
 * the caller loads it again (loadIndex). Without `pacing` (the first start: nothing decides yet)
 * each page is filled in one go; with it (a rebuild beside the live index) a few people a step.
 */
export function loadIndexOnWorker(dbFile: string, db: Db, index: AccessIndex, pacing?: LoadPacing): Promise<WorkerLoad> {
  const flow = new SharedArrayBuffer(8);
  const filled = new Int32Array(flow);
  const job: LoadJob = { file: dbFile, keyId: index.subjectKeyId ?? null, wantEmails: index.subjectOf !== undefined, batch: LOAD_BATCH, ahead: AHEAD, flow };
  const worker = new Worker(builtEntry('./index-load-worker.js', import.meta.url), { workerData: job });
  const scratch = newScratch();
  let seq: number | null = null;
  return new Promise<WorkerLoad>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(err);
    };
    const pageDone = () => {
      Atomics.add(filled, 1, 1);
      Atomics.notify(filled, 1);
    };
    // Paced: pages wait here in order while the one before is filled step by step.
    const queue: PackedPage[] = [];
    let draining = false;
    let ended = false;
    const drain = async (p: LoadPacing) => {
      draining = true;
      for (let page = queue.shift(); page !== undefined && !settled; page = queue.shift()) {
        const whole = await new PageFill(page, db, index, scratch).paced(p.slice, p.step, () => settled || !db.open);
        if (settled) return;
        if (!whole) throw new Error('the database closed during the index load');
        pageDone();
      }
      draining = false;
      if (ended && !settled) {
        settled = true;
        resolve({ seq: seq! });
      }
    };
    worker.on('message', (m: LoadMessage) => {
      if (settled) return;
      try {
        if (m.kind === 'start') {
          index.clear();
          index.setDoors(m.doors);
          index.reserve(m.people, m.activeCards);
          seq = m.seq;
        } else if (m.kind === 'page' && pacing) {
          queue.push(m.page);
          if (!draining) drain(pacing).catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
        } else if (m.kind === 'page') {
          fillPage(m.page, db, index, scratch);
          pageDone();
        } else if (m.kind === 'end') {
          ended = true;
          if (draining || queue.length > 0) return;
          settled = true;
          resolve({ seq: seq! });
        } else {
          fail(new Error(`index load worker: ${m.message}`));
        }
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => {
      // The worker ends after its last page; a paced fill may still be draining what it sent.
      if (!ended) fail(new Error(`index load worker exited (${code}) before the end of the load`));
    });
  });
}

/** One page into the index, person by person, through the one scratch PersonInput (as loadIndex does). */
function fillPage(page: PackedPage, db: Db, index: AccessIndex, scratch: Scratch): void {
  new PageFill(page, db, index, scratch).next(Number.POSITIVE_INFINITY);
}

export function newScratch(): Scratch {
  return { person: { id: 0, active: false, tokensValidAfter: 0, grants: [], cards: [] }, windows: [], cards: [], memberships: [] };
}

/**
 * A page put into an index a few people at a time, so that the caller can yield between steps
 * (the change refresher fills pages beside live decisions, index-refresh.ts). `skip` names people
 * the page must not overwrite: their rows are passed over and the index keeps what it has.
 */
export class PageFill {
  private i = 0;
  private c = 0;
  private g = 0;
  private m = 0;
  private e = 0;

  constructor(
    private readonly page: PackedPage,
    private readonly db: Db,
    private readonly index: AccessIndex,
    private readonly scratch: Scratch,
    private readonly skip: ReadonlySet<number> = NO_SKIP,
  ) {}

  get done(): boolean {
    return this.i >= this.page.ids.length;
  }

  /**
   * The rest of the page, `step` people between two looks at `slice` (yielding to the loop when
   * its budget is spent); false if `stop` said so first, with the page not filled to its end.
   */
  async paced(slice: LoopSlice, step: number, stop: () => boolean): Promise<boolean> {
    while (!this.done) {
      if (slice.spent()) await slice.yield();
      if (stop()) return false;
      this.next(step);
    }
    return true;
  }

  /** Puts up to `count` more people of the page; returns how many it passed (put or skipped). */
  next(count: number): number {
    const { page, db, index, scratch, skip } = this;
    const p = scratch.person;
    const { ids, flags, numbers, subjects, emails, cardCounts, cardStrings, cardStates, cardBounds, grantCounts, doorNames, grantDoors, grantBounds, memberships } = page;
    let { c, g, m, e } = this;
    const end = Math.min(ids.length, this.i + count);
    const from = this.i;
    for (let i = from; i < end; i++) {
      const id = ids[i]!;
      const f = flags[i]!;
      const stored = (f & PERSON_STORED_SUBJECT) !== 0;
      const email = !stored && emails.length > 0 ? emails[e++] : undefined;
      const nc = cardCounts[i]!;
      const ng = grantCounts[i]!;
      if (skip.has(id)) {
        c += nc;
        g += ng;
        while (m < memberships.length && memberships[m]![0] === id) m++;
        continue;
      }
      for (let k = 0; k < nc; k++, c++) {
        const slot = (scratch.cards[k] ??= { number: '', active: false });
        slot.number = cardStrings[c]!;
        slot.state = CARD_STATES[cardStates[c]!];
        slot.active = slot.state === 'active';
        slot.validFrom = bound(cardBounds[2 * c]!);
        slot.validTo = bound(cardBounds[2 * c + 1]!);
      }
      for (let k = 0; k < ng; k++, g++) {
        const slot = (scratch.windows[k] ??= { door: '', from: 0, to: 0 });
        slot.door = doorNames[grantDoors[g]!]!;
        slot.from = bound(grantBounds[2 * g]!) ?? -Infinity;
        slot.to = bound(grantBounds[2 * g + 1]!) ?? Infinity;
      }
      let nm = 0;
      for (; m < memberships.length && memberships[m]![0] === id; m++, nm++) {
        const slot = (scratch.memberships[nm] ??= { group: '', from: 0, to: 0 });
        const row = memberships[m]!;
        slot.group = row[1];
        slot.from = row[2] ?? -Infinity;
        slot.to = row[3] ?? Infinity;
      }
      if ((f & PERSON_ODD) !== 0) {
        refreshPeople(db, index, [id]);
        continue;
      }
      // The scratch arrays themselves, cut to this person's counts: no copy a person (the slots
      // are reused from person to person already; nothing the index keeps points into them).
      scratch.cards.length = nc;
      scratch.windows.length = ng;
      p.cards = scratch.cards;
      p.grants = scratch.windows;
      if (nm === 0) p.memberships = NO_MEMBERSHIPS;
      else {
        scratch.memberships.length = nm;
        p.memberships = scratch.memberships;
      }
      p.id = id;
      p.email = email;
      p.subject = stored ? { hi: subjects[2 * i]!, lo: subjects[2 * i + 1]! } : undefined;
      p.active = (f & PERSON_ACTIVE) !== 0;
      p.tokensValidAfter = numbers[3 * i]!;
      p.validFrom = bound(numbers[3 * i + 1]!);
      p.validTo = bound(numbers[3 * i + 2]!);
      index.putPerson(p);
    }
    this.c = c;
    this.g = g;
    this.m = m;
    this.e = e;
    this.i = end;
    return end - from;
  }
}

const NO_SKIP: ReadonlySet<number> = new Set();
