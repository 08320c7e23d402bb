import type { CardTableState } from './card-table.js';
import type { PrivilegeSpan } from './derive.js';
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
