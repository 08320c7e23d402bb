import type { SiteLocation } from '../../config/locations.js';
import type { BookingConfig } from '../../upstream/booking-apply.js';
import type { V1Reply, V1Request } from '../../http/v1-forward.js';
import type { ApiStatus } from './errors.js';

/*
 * What the main thread and the API thread (writer-thread.ts) say to each other. The thread
 * serves all of /api/v1 (requests arrive as bytes, http/v1-forward.ts) and the console's
 * writes (by op name, write-ops.ts); everything in a message is plain data, structured-clone
 * safe, and request and reply bodies are moved (transferred), never copied.
 */

/** A write by op name (the console's operator actions, parts/console-part.ts). */
export interface WriterRequest {
  id: number;
  op: string;
  args: unknown[];
}

export interface WriterReply {
  id: number;
  value?: unknown;
  /** With a value: the change log's mark (readChangeMark) after the commit that carried it. */
  seq?: number;
  error?: { kind: 'api'; status: ApiStatus; code: string; message: string; field?: string } | { kind: 'busy' | 'error'; message: string; code?: string };
}

/**
 * What the API reads from the running configuration at each request, sent at the thread's
 * start and again after every reload (parts/api-part.ts), so a reload that adds a group makes
 * it usable at the next request, as when the API ran on the main thread.
 */
export interface ApiLive {
  knownGroups: string[];
  bookingConfig: BookingConfig;
  locations: SiteLocation[];
  qrTtlSeconds: number;
  /** The gateway's operator token (FilesPart.authToken): an admin credential for /api/v1 too. */
  operatorToken: string | undefined;
  logLevel: string;
}

export interface ApiThreadData {
  dbFile: string;
  key: Uint8Array;
  live: ApiLive;
}

/** One HTTP request for the thread; `now` is the gateway clock's at its arrival (parts/api-part.ts). */
export interface HttpJob {
  kind: 'http';
  id: number;
  req: V1Request;
  now: number;
}

/** The messages of one turn of the main thread's loop travel together (writer.ts flushOutbox). */
export type ToThread = { kind: 'writes'; batch: WriterRequest[] } | HttpJob | { kind: 'live'; live: ApiLive };

export interface HttpDone {
  kind: 'http';
  id: number;
  reply: V1Reply;
  /** The request wrote: the change-log mark after its last commit. Its answer waits until the index has it. */
  seq?: number;
  /** The request committed through another thread (a bulk): the change watcher should look now, without a wait. */
  nudge?: boolean;
}

export type FromThread = { kind: 'write'; reply: WriterReply } | HttpDone | { kind: 'log'; line: string };
