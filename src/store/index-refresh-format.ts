import type { PackedPage } from './index-load-format.js';

/*
 * Messages between the change refresher (index-refresh.ts) and its worker
 * (index-refresh-worker.ts). Types only, so the worker imports nothing else of the gateway.
 */

export interface RefreshRequest {
  id: number;
  /** Person ids to read; each is either in the page or in `missing`. */
  ids: number[];
  /** As the first start's load job (index-load-format.ts LoadJob). */
  keyId: number | null;
  wantEmails: boolean;
}

export type RefreshReply =
  | { kind: 'page'; id: number; page: PackedPage; missing: number[] }
  | { kind: 'error'; id: number; message: string };
