import type { LevelWithSilent } from 'pino';
import type { Config, ResourceConfig } from '../../config/schema.js';
import type { ReconcileReport } from '../reconciler.js';
import type { UpstreamStatus } from '../upstream-sync.js';

/*
 * The contract between the gateway's main thread and the upstream thread (upstream-thread.ts).
 * Both sides are this build's own code, so the messages are typed, not schema-checked; the
 * platform's bytes inside them are checked by the thread exactly as before (webhook.ts, schemas.ts).
 */

/** What the thread is started with (workerData). Plain data: it crosses by structured clone. */
export interface ThreadInit {
  config: Config;
  token: string;
  logLevel: LevelWithSilent;
  /** Which location's link (upstream-sync.ts UpstreamSyncOptions.location); absent: unscoped. */
  location?: { key: string; replayPrefix: string };
}

/** One signed callback as it arrived: headers that matter to the webhook, and the capped raw body. */
export interface CallbackRequest {
  type: 'callback';
  id: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export type ToThread =
  | CallbackRequest
  | { type: 'token'; token: string }
  | { type: 'log-level'; level: LevelWithSilent }
  | { type: 'mapping'; changed: string[]; resources: ResourceConfig[] }
  /** An operator asked for a reconciliation now (console, MQTT): answered with `reconciled`. */
  | { type: 'reconcile'; id: number }
  | { type: 'stop' };

export interface CallbackAnswer {
  type: 'answer';
  id: number;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type FromThread =
  | CallbackAnswer
  | { type: 'reconciled'; id: number; report: ReconcileReport | null; error: string | null }
  | { type: 'status'; status: UpstreamStatus }
  /** Something was committed to SQLite: the main thread applies change_log now, not at its next poll. */
  | { type: 'committed' }
  /** A background run failed (counted as lintel_background_errors_total{task}). */
  | { type: 'failure'; task: string }
  /** One pino JSON line, re-emitted by the main thread's logger so there is one log stream. */
  | { type: 'log'; line: string };

/** How often the thread sends its status: the status page and /api/status read the latest. */
export const STATUS_EVERY_MS = 500;
