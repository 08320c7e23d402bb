import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { CardStreamMessage } from '../store/card-batches.js';

/*
 * The channel between the import's parsing thread and its writing thread (cards-import.ts).
 * The writer applies the batches inside one synchronous Store.transact, so it cannot await a
 * message: it takes them with receiveMessageOnPort and sleeps on a shared counter in between
 * (Atomics.wait; a worker may block, only the CLI's main thread must not). The parser stops
 * when CHANNEL_WINDOW batches are unapplied, so a slow disk does not pile the file up in memory. The
 * CLI's main thread, whose event loop is free, marks the parser gone when it exits: a parser
 * that ran out of heap can say nothing, and the writer must not sleep forever.
 */

/** Int32 slots of the shared buffer. */
const SENT = 0;
const TAKEN = 1;
const GONE = 2;
const DONE = 3;
export const CHANNEL_BYTES = 16;
/** Batches posted and not yet taken at most: ~10 MB of batches at the bench's rows. */
export const CHANNEL_WINDOW = 4;

/** The writer's side: `next` blocks until the parser's next message. */
export class BatchReceiver {
  private readonly flags: Int32Array;

  constructor(
    private readonly port: MessagePort,
    shared: SharedArrayBuffer,
  ) {
    this.flags = new Int32Array(shared);
  }

  next(): CardStreamMessage {
    for (;;) {
      const seen = Atomics.load(this.flags, SENT);
      const m = receiveMessageOnPort(this.port);
      if (m !== undefined) {
        Atomics.add(this.flags, TAKEN, 1);
        Atomics.notify(this.flags, TAKEN);
        return m.message as CardStreamMessage;
      }
      if (Atomics.load(this.flags, GONE) === 1) return { failed: { message: 'the import’s parsing thread ended without an answer' } };
      Atomics.wait(this.flags, SENT, seen);
    }
  }

  /** The writer is done (committed or failed): a parser still at work stops. */
  close(): void {
    Atomics.store(this.flags, DONE, 1);
    Atomics.notify(this.flags, TAKEN);
    this.port.close();
  }
}

/** The parser's side. `send` returns false once the writer is done: nothing more is wanted. */
export class BatchSender {
  private readonly flags: Int32Array;
  private sent = 0;

  constructor(
    private readonly port: MessagePort,
    shared: SharedArrayBuffer,
  ) {
    this.flags = new Int32Array(shared);
  }

  send(message: CardStreamMessage, transfer: ArrayBuffer[] = []): boolean {
    for (;;) {
      if (Atomics.load(this.flags, DONE) === 1) return false;
      const taken = Atomics.load(this.flags, TAKEN);
      if (this.sent - taken < CHANNEL_WINDOW) break;
      Atomics.wait(this.flags, TAKEN, taken);
    }
    this.port.postMessage(message, transfer);
    this.sent++;
    Atomics.add(this.flags, SENT, 1);
    Atomics.notify(this.flags, SENT);
    return true;
  }
}

/** The CLI's main thread: the parser has exited, whatever it sent. */
export function markParserGone(shared: SharedArrayBuffer): void {
  const flags = new Int32Array(shared);
  Atomics.store(flags, GONE, 1);
  Atomics.add(flags, SENT, 1);
  Atomics.notify(flags, SENT);
}

/** The CLI's main thread: the writer has exited (a writer out of heap cannot say so itself). */
export function markWriterGone(shared: SharedArrayBuffer): void {
  const flags = new Int32Array(shared);
  Atomics.store(flags, DONE, 1);
  Atomics.notify(flags, TAKEN);
}
