import { parentPort, workerData } from 'node:worker_threads';
import { memberSubjectOf } from './member-subject.js';

/*
 * The thread side of subject-thread.ts: each message is a batch of emails joined by '\n' (an
 * email never holds one: card-rows.ts accepts only zod's email pattern); each answer is that
 * batch's subjects, hi and lo interleaved, its buffer transferred rather than copied.
 */

const subjectOf = memberSubjectOf(Buffer.from(workerData as Uint8Array));
parentPort!.on('message', (batch: string) => {
  const emails = batch.split('\n');
  const out = new Uint32Array(emails.length * 2);
  for (let k = 0; k < emails.length; k++) {
    const { hi, lo } = subjectOf(emails[k]!);
    out[2 * k] = hi;
    out[2 * k + 1] = lo;
  }
  parentPort!.postMessage(out, [out.buffer]);
});
