import type { Hono } from 'hono';
import type { ResourceConfig } from '../config/schema.js';
import type { UpstreamClient } from './client.js';
import type { UpstreamStatus } from './upstream-sync.js';

/**
 * What the gateway needs of the booking-platform link, wherever it runs: in its own thread in
 * the product (UpstreamThread), in-process where a test drives UpstreamSync directly.
 */
export interface UpstreamLink {
  /** The client the visitor gate verifies codes with (on the main thread: a read waits for it anyway). */
  readonly client: UpstreamClient;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): UpstreamStatus;
  /** The signed callback endpoint, mounted by the HTTP app. */
  webhookApp(): Hono;
  setToken(token: string): void;
  /** Resources or their doors changed (already committed by the caller): resubscribe and fetch. */
  mappingChanged(changed: string[], resources: ResourceConfig[]): Promise<void>;
}
