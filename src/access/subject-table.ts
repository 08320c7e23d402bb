import { CardTable, type CardTableState } from './card-table.js';

/** A member-token subject as its two 32-bit halves (unsigned). */
export interface MemberSubject {
  readonly hi: number;
  readonly lo: number;
}

export interface SubjectTableState {
  table: CardTableState;
  shared: [string, number[]][];
}

/** Table value of a subject that more than one person has. */
const SHARED = 0xffff_ffff;

/**
 * Member-token subject → index record, in the same flat 64-bit-keyed table the cards use
 * (16 bytes a slot, no object per person: at a million people it stays a few tens of MB).
 *
 * Subjects are 64-bit hashes, so two people may, very rarely, share one. A token for that
 * subject cannot say which of them it is for, so it names nobody: both are refused (fail
 * closed) until one of them leaves, and every new sharer is reported.
 */
export class SubjectTable {
  private readonly table: CardTable;
  /** "hi:lo" → ids of the people sharing that subject (the table holds SHARED for it). */
  private shared = new Map<string, Set<number>>();

  /** Bytes of typed arrays held. */
  get bytes(): number {
    return this.table.bytes;
  }

  constructor(
    seed: number | undefined,
    private readonly onCollision: ((personIds: number[]) => void) | undefined,
  ) {
    this.table = new CardTable(seed);
  }

  /** The record of the one person with this subject, or -1 (nobody, or several people). */
  record(subject: MemberSubject): number {
    const record = this.table.getKey(subject.lo, subject.hi);
    return record === SHARED ? -1 : record;
  }

  /** `personOf(record)` names the holder of a record already in the table. */
  add(subject: MemberSubject, record: number, id: number, personOf: (record: number) => number): void {
    const found = this.table.getKey(subject.lo, subject.hi);
    if (found < 0) return this.table.setKey(subject.lo, subject.hi, record);
    const key = `${subject.hi}:${subject.lo}`;
    let sharing = this.shared.get(key);
    if (sharing === undefined) {
      sharing = new Set([personOf(found)]);
      this.shared.set(key, sharing);
      this.table.setKey(subject.lo, subject.hi, SHARED);
    }
    sharing.add(id);
    this.onCollision?.([...sharing]);
  }

  /** Removes `id` (whose record is `record`); the last person left on a shared subject gets it back. */
  remove(subject: MemberSubject, record: number, id: number, recordOf: (id: number) => number): void {
    const found = this.table.getKey(subject.lo, subject.hi);
    if (found === record) {
      this.table.deleteKey(subject.lo, subject.hi);
      return;
    }
    if (found !== SHARED) return;
    const key = `${subject.hi}:${subject.lo}`;
    const sharing = this.shared.get(key)!;
    sharing.delete(id);
    if (sharing.size > 1) return;
    this.shared.delete(key);
    const [left] = sharing;
    if (left !== undefined) this.table.setKey(subject.lo, subject.hi, recordOf(left));
  }

  /** How many subjects several people share. */
  collisions(): number {
    return this.shared.size;
  }

  exportState(): SubjectTableState {
    return { table: this.table.exportState(), shared: [...this.shared].map(([k, ids]) => [k, [...ids]]) };
  }

  importState(state: SubjectTableState): void {
    this.table.importState(state.table);
    this.shared = new Map(state.shared.map(([k, ids]) => [k, new Set(ids)]));
  }

  reserve(subjects: number): void {
    this.table.reserve(subjects);
  }

  clear(): void {
    this.table.clear();
    this.shared.clear();
  }
}
