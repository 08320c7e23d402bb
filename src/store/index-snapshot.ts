import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { AccessIndex, IndexState } from '../access/access-index.js';
import type { CardTableState } from '../access/card-table.js';
import { RecordPool } from '../access/record-pool.js';
import { prepareCached as cached, type Db } from './db.js';
import type { Store } from './store.js';

/*
 * The access index written to a file at a clean stop and read back at start: a million people
 * come back in one sequential read of their typed arrays instead of three million SQLite rows
 * turned into JS values (a 2.7 s floor on its own). The file is trusted only when everything
 * says it is the index of this very database at a known change-log position:
 *   - its sha256 over everything it holds (a torn or corrupt file),
 *   - the schema version, the member-token key id and the access model (its hash) it was made
 *     under: windows hold a model's group doors and schedule slots,
 *   - the row of index_snapshot (migration 10) naming its random id and change-log seq: a database
 *     restored from a backup, or another site's, names another snapshot or none,
 *   - the change log after that seq still complete (nothing pruned unapplied).
 * Otherwise the caller loads from SQLite as before. Full card numbers are in it, as in the
 * database: the file is the gateway's own (0600), beside the database.
 */

const MAGIC = Buffer.from('LNTLIDX1');
/**
 * 2: records carry a validity flag and packed window keys (door, schedule slot, source).
 * 3: two-double header, subject last, standing memberships one double with a door filter
 *    (access/record-layout.ts); groups numbered by their run in GroupDoors' table.
 */
const VERSION = 3;
/** Room for growth read into the record pool, so the first put after start does not copy it. */
const POOL_HEADROOM = 1 / 16;

type Section = 'pool' | 'activeSlots' | 'disabledSlots' | 'subjectSlots' | 'personIds' | 'recordOffsets';
const SECTIONS: readonly Section[] = ['pool', 'activeSlots', 'disabledSlots', 'subjectSlots', 'personIds', 'recordOffsets'];

interface TableMeta {
  seed: number;
  used: number;
  other: [string, number][];
}

interface Header {
  version: number;
  snapshotId: string;
  seq: number;
  schema: number;
  subjectKeyId: number | null;
  /** Bytes of each section, in SECTIONS order. */
  bytes: number[];
  freeLists: number[][];
  activeCards: TableMeta;
  disabledCards: TableMeta;
  subjects: TableMeta;
  sharedSubjects: [string, number[]][];
  tokensAfter: [number, number][];
  otherCards: [number, string[]][];
  modelHash: string | null;
  /** [card, owner, lost, validFrom, validTo]: JSON has no Infinity, so an open bound is null. */
  cardRules: [string, number, boolean, number | null, number | null][];
  /** [person, [from, to, lockdownOverride, firstPersonIn][]], open bounds null likewise. */
  privileges: [number, [number | null, number | null, boolean, boolean][]][];
  doorNumbers: string[];
  configuredDoors: string[];
  grantCount: number;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

function encodeSides(state: IndexState): Pick<Header, 'cardRules' | 'privileges'> {
  return {
    cardRules: state.cardRules.map(([card, r]) => [card, r.owner, r.lost, finite(r.validFrom), finite(r.validTo)]),
    privileges: state.privileges.map(([id, spans]) => [id, spans.map((p) => [finite(p.from), finite(p.to), p.lockdownOverride, p.firstPersonIn])]),
  };
}

function decodeSides(h: Header): Pick<IndexState, 'cardRules' | 'privileges'> {
  return {
    cardRules: h.cardRules.map(([card, owner, lost, from, to]) => [card, { owner, lost, validFrom: from ?? -Infinity, validTo: to ?? Infinity }]),
    privileges: h.privileges.map(([id, spans]) => [
      id,
      spans.map(([from, to, lockdownOverride, firstPersonIn]) => ({ from: from ?? -Infinity, to: to ?? Infinity, lockdownOverride, firstPersonIn })),
    ]),
  };
}

const tableMeta = (t: CardTableState): TableMeta => ({ seed: t.seed, used: t.used, other: t.other });
const bytesOf = (a: Uint32Array | Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Writes the index as consistent with the change log up to `seq` (everything up to it is in the
 * index; later entries may be too: applying them again is harmless). Temp file, fsync, rename,
 * then the database row that makes it trusted.
 */
export function writeIndexSnapshot(store: Store, index: AccessIndex, seq: number, file: string, now: number): { bytes: number } {
  const state = index.exportState();
  const arrays: Record<Section, Uint32Array | Float64Array> = {
    pool: state.pool.data,
    activeSlots: state.activeCards.slots,
    disabledSlots: state.disabledCards.slots,
    subjectSlots: state.subjects.table.slots,
    personIds: state.personIds,
    recordOffsets: state.recordOffsets,
  };
  const header: Header = {
    version: VERSION,
    snapshotId: randomBytes(16).toString('hex'),
    seq,
    schema: schemaVersion(store.db),
    subjectKeyId: state.subjectKeyId,
    bytes: SECTIONS.map((s) => arrays[s].byteLength),
    freeLists: state.pool.freeLists,
    activeCards: tableMeta(state.activeCards),
    disabledCards: tableMeta(state.disabledCards),
    subjects: tableMeta(state.subjects.table),
    sharedSubjects: state.subjects.shared,
    tokensAfter: state.tokensAfter,
    otherCards: state.otherCards,
    modelHash: state.modelHash,
    ...encodeSides(state),
    doorNumbers: state.doorNumbers,
    configuredDoors: state.configuredDoors,
    grantCount: state.grantCount,
  };
  const json = Buffer.from(JSON.stringify(header));
  const hash = createHash('sha256').update(json);
  for (const s of SECTIONS) hash.update(bytesOf(arrays[s]));
  const prefix = Buffer.alloc(MAGIC.length + 4 + 32);
  MAGIC.copy(prefix);
  prefix.writeUInt32LE(json.length, MAGIC.length);
  hash.digest().copy(prefix, MAGIC.length + 4);
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  let total = 0;
  try {
    try {
      for (const chunk of [prefix, json, ...SECTIONS.map((s) => bytesOf(arrays[s]))]) total += writeAll(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true }); // a full disk must not keep half a snapshot
    throw err;
  }
  store.transact((tx) => {
    cached(tx.db, 'INSERT OR REPLACE INTO index_snapshot (id, snapshot_id, seq, written_at) VALUES (1, ?, ?, ?)').run(header.snapshotId, seq, now);
  });
  return { bytes: total };
}

function writeAll(fd: number, chunk: Uint8Array): number {
  for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
  return chunk.length;
}

function readFully(fd: number, into: Uint8Array, hash: Hash | null): void {
  for (let at = 0; at < into.length; ) {
    const n = readSync(fd, into, at, into.length - at, null);
    if (n === 0) throw new Error('truncated');
    at += n;
  }
  hash?.update(into);
}

export type SnapshotLoad = { ok: true; seq: number } | { ok: false; reason: string };

/**
 * Restores `index` from the snapshot when it can be trusted for `db` (see the top of this file),
 * leaving the change log after its seq to the caller. On any doubt the index is left empty and
 * the reason is returned: the caller loads from SQLite.
 */
export function readIndexSnapshot(db: Db, index: AccessIndex, file: string): SnapshotLoad {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { ok: false, reason: 'no snapshot file' };
  }
  try {
    const prefix = Buffer.alloc(MAGIC.length + 4 + 32);
    readFully(fd, prefix, null);
    if (!prefix.subarray(0, MAGIC.length).equals(MAGIC)) return { ok: false, reason: 'not an index snapshot' };
    const jsonLength = prefix.readUInt32LE(MAGIC.length);
    if (jsonLength > 64 * 1024 * 1024) return { ok: false, reason: 'corrupt header' };
    const json = Buffer.alloc(jsonLength);
    const hash = createHash('sha256');
    readFully(fd, json, hash);
    const h = JSON.parse(json.toString('utf8')) as Header;
    if (h.version !== VERSION) return { ok: false, reason: `snapshot version ${h.version}` };
    if (h.schema !== schemaVersion(db)) return { ok: false, reason: 'made under another schema version' };
    if (h.subjectKeyId !== (index.subjectKeyId ?? null)) return { ok: false, reason: 'made with another member-token key' };
    if (h.modelHash !== index.modelHash) return { ok: false, reason: 'made under another access model' };
    const marker = cached(db, 'SELECT snapshot_id, seq FROM index_snapshot WHERE id = 1').get() as { snapshot_id: string; seq: number } | undefined;
    if (marker?.snapshot_id !== h.snapshotId || marker.seq !== h.seq) return { ok: false, reason: 'the database names another snapshot (restored, replaced, or a newer one was lost)' };
    const gap = logGap(db, h.seq);
    if (gap !== null) return { ok: false, reason: gap };
    const [poolBytes, active, disabled, subjects, ids, offsets] = h.bytes as [number, number, number, number, number, number];
    const top = poolBytes / 8;
    // Read straight into the pool's own memory: a copy would leave this read's array as garbage.
    const pool = RecordPool.freshData(Math.ceil(top * (1 + POOL_HEADROOM)) + 1024);
    readFully(fd, bytesOf(pool).subarray(0, poolBytes), hash);
    const sections = [active, disabled, subjects].map((bytes) => new Uint32Array(bytes / 4));
    for (const s of sections) readFully(fd, bytesOf(s), hash);
    const personIds = new Float64Array(ids / 8);
    const recordOffsets = new Float64Array(offsets / 8);
    readFully(fd, bytesOf(personIds), hash);
    readFully(fd, bytesOf(recordOffsets), hash);
    if (!hash.digest().equals(prefix.subarray(MAGIC.length + 4))) return { ok: false, reason: 'checksum mismatch' };
    const state: IndexState = {
      subjectKeyId: h.subjectKeyId,
      pool: { data: pool, freeLists: h.freeLists },
      activeCards: { ...h.activeCards, slots: sections[0]! },
      disabledCards: { ...h.disabledCards, slots: sections[1]! },
      subjects: { table: { ...h.subjects, slots: sections[2]! }, shared: h.sharedSubjects },
      personIds,
      recordOffsets,
      tokensAfter: h.tokensAfter,
      otherCards: h.otherCards,
      modelHash: h.modelHash,
      ...decodeSides(h),
      doorNumbers: h.doorNumbers,
      configuredDoors: h.configuredDoors,
      grantCount: h.grantCount,
    };
    index.importState(state, top);
    return { ok: true, seq: h.seq };
  } catch (err) {
    index.clear();
    return { ok: false, reason: `unreadable: ${(err as Error).message}` };
  } finally {
    closeSync(fd);
  }
}

/** Null when every change-log entry after `seq` is still there; else why the snapshot cannot be caught up. */
function logGap(db: Db, seq: number): string | null {
  const row = cached(db, "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'").get() as { seq: number } | undefined;
  const last = row?.seq ?? 0;
  if (last < seq) return 'the change log is behind the snapshot (a restored database)';
  if (last === seq) return null;
  const first = (cached(db, 'SELECT min(seq) AS first FROM change_log WHERE seq > ?').get(seq) as { first: number | null }).first;
  return first === seq + 1 ? null : 'the change log after the snapshot was pruned';
}

/** A snapshot that has been found unusable goes, so that it is not read again at every start. */
export function removeIndexSnapshot(file: string): void {
  rmSync(file, { force: true });
}
