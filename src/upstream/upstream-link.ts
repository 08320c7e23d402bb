import type { Hono } from 'hono';
import type { LevelWithSilent } from 'pino';
import type { ResourceConfig } from '../config/schema.js';
import type { UpstreamClient } from './client.js';
import type { ReconcileReport } from './reconciler.js';
import type { UpstreamStatus } from './upstream-sync.js';

/**
 * What the gateway needs of the booking-platform link, wherever it runs: in its own thread in
 * the product (UpstreamThread), in-process where a test drives UpstreamSync directly.
 */
/** An answer to one platform callback, as the HTTP layer sends it. */
export interface CallbackReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface UpstreamLink {
  /** The client the visitor gate verifies codes with (on the main thread: a read waits for it anyway). */
  readonly client: UpstreamClient;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): UpstreamStatus;
  /** The signed callback endpoint, mounted by the HTTP app. */
  webhookApp(): Hono;
  /** One callback whose body was read within upstream.maxCallbackBytes: the link's answer. */
  answerCallback(header: (name: string) => string | undefined, body: Buffer): Promise<CallbackReply>;
  /** The answer to a body over the cap (counted with the link's refusals). */
  refuseTooLarge(): CallbackReply;
  setToken(token: string): void;
  /** A reload changed log.level: the link's own loggers (its thread's) take it too. */
  setLogLevel(level: LevelWithSilent): void;
  /** An operator's "reconcile now": every mapped resource's list fetched and applied; rejects when the link cannot. */
  reconcileNow(): Promise<ReconcileReport>;
  /** Resources or their doors changed (already committed by the caller): resubscribe and fetch. */
  mappingChanged(changed: string[], resources: ResourceConfig[]): Promise<void>;
}
