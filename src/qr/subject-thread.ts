import { Worker } from 'node:worker_threads';
import type { SubjectBatches } from '../store/subject-columns.js';
import { builtEntry } from '../util/worker-entry.js';

/*
 * Member-token subjects (an HMAC each, ~2.2 µs) on a second thread. `lintel cards import`
 * hands over its new emails while it is still parsing the file, so that a million HMACs run on
 * the other core instead of inside the write transaction (BENCHMARKS.md, issue 10). The thread
 * holds a copy of the token key, as the API's writer thread does.
 */

/** Its heap holds one batch of emails and its answer at a time. */
const THREAD_HEAP_MB = 64;

export class SubjectThread implements SubjectBatches {
  private readonly worker: Worker;
  private readonly parts: Uint32Array[] = [];
  private sent = 0;
  private added = 0;
  private failed = false;
  private settle: (() => void) | null = null;

  constructor(key: Buffer) {
    this.worker = new Worker(builtEntry('./subject-thread-worker.js', import.meta.url), {
      workerData: new Uint8Array(key),
      resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
    });
    this.worker.on('message', (part: Uint32Array) => {
      this.parts.push(part);
      if (this.parts.length === this.sent) this.settle?.();
    });
    const fail = () => {
      this.failed = true;
      this.settle?.();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => {
      if (this.parts.length < this.sent) fail();
    });
  }

  add(emails: readonly string[]): void {
    if (emails.length === 0 || this.failed) return;
    this.sent++;
    this.added += emails.length;
    this.worker.postMessage(emails.join('\n'));
  }

  async finish(): Promise<{ hi: Uint32Array; lo: Uint32Array } | undefined> {
    if (this.parts.length < this.sent && !this.failed) await new Promise<void>((resolve) => (this.settle = resolve));
    await this.worker.terminate();
    if (this.failed) return undefined;
    const hi = new Uint32Array(this.added);
    const lo = new Uint32Array(this.added);
    let k = 0;
    for (const part of this.parts) {
      for (let i = 0; i < part.length; i += 2, k++) {
        hi[k] = part[i]!;
        lo[k] = part[i + 1]!;
      }
    }
    this.parts.length = 0;
    return { hi, lo };
  }

  cancel(): void {
    this.failed = true;
    void this.worker.terminate();
  }
}
