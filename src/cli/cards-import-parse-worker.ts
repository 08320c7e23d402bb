import { workerData, type MessagePort } from 'node:worker_threads';
import { memberSubjectOf } from '../qr/member-subject.js';
import { streamCardFile, type CardStreamMessage } from '../store/card-batches.js';
import { IMPORT_BATCH } from '../store/card-import.js';
import { CardRows } from '../store/card-rows.js';
import { BatchSender } from './cards-import-channel.js';

/*
 * The parsing thread of `lintel cards import` (cards-import.ts): the file parsed and validated
 * into CardRows, a batch cut every IMPORT_BATCH records for the writing thread, with the new
 * people's member-token subjects (an HMAC each: this thread has the time, the writer has not).
 * After the first bad row nothing more is sent but the end (card-batches.ts: streamCardFile).
 */

export interface ParseSetup {
  file: string;
  doors: string[];
  /** The configuration's access-group ids; null for a configuration without them. */
  groups: string[] | null;
  /** The token key the writer's store hashes with; null when it writes no subjects. */
  key: Uint8Array | null;
  port: MessagePort;
  shared: SharedArrayBuffer;
}

const setup = workerData as ParseSetup;
const channel = new BatchSender(setup.port, setup.shared);
const rows = new CardRows(setup.doors, setup.groups === null ? undefined : new Set(setup.groups));
const subjectOf = setup.key === null ? undefined : memberSubjectOf(Buffer.from(setup.key));

/** The typed arrays of a batch go over transferred, not copied. */
function buffers(m: CardStreamMessage): ArrayBuffer[] {
  if (!('batch' in m)) return [];
  const b = m.batch;
  const arrays = [b.hi, b.lo, b.cardPerson, b.cardFormat, b.cardState, b.cardLine, b.grantPerson, b.grantFrom, b.grantTo, b.memberPerson, b.memberFrom, b.memberTo];
  return arrays.flatMap((a) => (a === undefined ? [] : [a.buffer as ArrayBuffer]));
}

await streamCardFile(setup.file, rows, IMPORT_BATCH, subjectOf, (m) => channel.send(m, buffers(m)));
