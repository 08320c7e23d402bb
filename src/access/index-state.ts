import type { AccessIndex } from './access-index.js';
import type { CardTableState } from './card-table.js';
import type { PrivilegeSpan } from './derive.js';
import { GroupDoors } from './group-doors.js';
import { PersonRecords } from './person-records.js';
import type { RecordPoolState } from './record-pool.js';
import type { CardRule } from './side-tables.js';
import type { SubjectTableState } from './subject-table.js';

/**
 * Everything an index holds, as typed arrays and a few small lists: what a snapshot file stores
 * (src/store/index-snapshot.ts) so that a restart need not read a million people from SQLite.
 * The arrays are the index's own, not copies: write them out before the index changes again.
 */
export interface IndexState {
  /** The key the stored subjects were made with (AccessIndexOptions.subjectKeyId); null without one. */
  subjectKeyId: number | null;
  /** The access model the windows were derived under (AccessIndex.modelHash); null without one. */
  modelHash: string | null;
  pool: RecordPoolState;
  activeCards: CardTableState;
  disabledCards: CardTableState;
  subjects: SubjectTableState;
  /** Person ids and, at the same position, their record offsets. */
  personIds: Float64Array<ArrayBuffer>;
  recordOffsets: Float64Array<ArrayBuffer>;
  tokensAfter: [number, number][];
  otherCards: [number, string[]][];
  /** Lost cards and cards with their own validity (bounds may be ±Infinity). */
  cardRules: [string, CardRule][];
  /** Members of lockdown-override and first-person-in groups (bounds may be ±Infinity). */
  privileges: [number, readonly PrivilegeSpan[]][];
  /** Door ids in the order of their numbers (the numbers records hold). */
  doorNumbers: string[];
  configuredDoors: string[];
  grantCount: number;
}

/** The index's tables as they are (AccessIndex.exportState). */
export function exportIndexState(ix: AccessIndex): IndexState {
  const personIds = new Float64Array(ix.records.size);
  const recordOffsets = new Float64Array(ix.records.size);
  let i = 0;
  for (const [id, record] of ix.records) {
    personIds[i] = id;
    recordOffsets[i++] = record;
  }
  return {
    subjectKeyId: ix.subjectKeyId ?? null,
    modelHash: ix.hashOfModel,
    pool: ix.pool.exportState(),
    activeCards: ix.activeCards.exportState(),
    disabledCards: ix.disabledCards.exportState(),
    subjects: ix.subjects.exportState(),
    personIds,
    recordOffsets,
    tokensAfter: [...ix.tokensAfter],
    otherCards: [...ix.otherCards],
    cardRules: ix.cardRules.entries(),
    privileges: ix.privileges.entries(),
    ...ix.doors.exportState(),
    grantCount: ix.grantCount,
  };
}

/**
 * Replaces everything in the index with a state exportState made, under the same subject key
 * and the same model: subjects made with another key would name the wrong people, windows
 * made under another model hold its groups' doors and its schedules' slots. `state.pool.data`
 * may be longer than the blocks in use, `top` doubles are in use (room to grow without a copy
 * at the first put).
 */
export function importIndexState(ix: AccessIndex, state: IndexState, top: number): void {
  if (state.subjectKeyId !== (ix.subjectKeyId ?? null)) throw new Error('index state was made with another member-token key');
  if (state.modelHash !== ix.hashOfModel) throw new Error('index state was made under another access model');
  if (state.personIds.length !== state.recordOffsets.length) throw new RangeError('index state: person ids and records differ in length');
  ix.pool.importState(state.pool.data, top, state.pool.freeLists);
  ix.activeCards.importState(state.activeCards);
  ix.disabledCards.importState(state.disabledCards);
  ix.subjects.importState(state.subjects);
  const records = new PersonRecords();
  for (let i = 0; i < state.personIds.length; i++) records.set(state.personIds[i]!, state.recordOffsets[i]!);
  ix.records = records;
  ix.tokensAfter.clear();
  for (const [id, at] of state.tokensAfter) ix.tokensAfter.set(id, at);
  ix.otherCards = new Map(state.otherCards);
  ix.cardRules.replace(state.cardRules);
  ix.privileges.replace(state.privileges);
  ix.doors.importState(state.doorNumbers, state.configuredDoors);
  // The snapshot's door numbering replaces ours: the groups' table is numbered anew with it.
  if (ix.groups !== null) ix.groupDoors = new GroupDoors(ix.groups, (door) => ix.doors.numberOf(door));
  ix.grantCount = state.grantCount;
}
