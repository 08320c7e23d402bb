import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { buildClientOptions, NoReplayStore, redactUrl, type MqttConfig } from '../doors/mqtt-options.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/*
 * The events' own MQTT connection, a second client beside the relay's. Why not the relay's
 * connection, after the unlock? Because "after" is not enough: an event written to the relay's
 * socket sits in its send buffer, and the next badge's unlock is queued behind those bytes
 * (TCP keeps one order per connection). A burst of decisions, door states and a Home Assistant
 * re-announce would then stand between a person and the door. On a second connection the
 * unlock never waits for an event, and a flood of requests on `bridge/request/#` (anyone the
 * ACL lets publish there) reaches this client, not the one the doors are driven by. It costs
 * one more TCP connection and its keepalive. It has no last-will: the gateway's status belongs
 * to the relay's connection (door-relay.ts), whose will Home Assistant's availability follows.
 */

/** Past this many bytes waiting in the socket the broker is not keeping up: events are dropped, not queued. */
export const MAX_BUFFERED_BYTES = 256 * 1024;

export type DropReason = 'disconnected' | 'backlog';

export interface EventsLinkOptions {
  mqtt: MqttConfig;
  siteId: string;
  url: string;
  protocolVersion: 4 | 5;
  logger: Logger;
  readFile?: (path: string) => Buffer;
  connect?: typeof mqtt.connect;
  reconnectPeriodMs?: number;
  /** Every publish's outcome, for the metrics. */
  counted?: (outcome: 'published' | DropReason) => void;
  /** Subscribed on every (re)connect (clean session). */
  subscriptions: () => string[];
  /** After each (re)connect and its subscriptions: the retained announcements go out again here. */
  connected?: () => void;
  message?: (topic: string, payload: Buffer, packet: IPublishPacket) => void;
}

export class EventsLink {
  private client: MqttClient | null = null;
  private stopping = false;
  readonly counts = { published: 0, disconnected: 0, backlog: 0 };

  constructor(private readonly opts: EventsLinkOptions) {}

  /** Resolves once the first attempt has an outcome; a broker that is down is retried by mqtt.js, never awaited. */
  async start(): Promise<void> {
    if (this.client) throw new Error('EventsLink already started');
    const o = this.opts;
    const options: IClientOptions = buildClientOptions({
      mqtt: o.mqtt,
      siteId: o.siteId,
      protocolVersion: o.protocolVersion,
      will: { topic: 'unused', payload: '' },
      reconnectPeriodMs: o.reconnectPeriodMs ?? 1000,
      outgoingStore: new NoReplayStore(),
      readFile: o.readFile,
    });
    delete options.will;
    // A site that keys its ACL on client ids names the relay's; this one is that with -events.
    if (o.mqtt.clientId !== undefined) options.clientId = `${o.mqtt.clientId}-events`;
    else options.clientId = `${String(options.clientId)}-events`;
    const client = (o.connect ?? mqtt.connect)(o.url, options);
    this.client = client;
    const where = redactUrl(o.url);
    client.on('error', (err) => o.logger.warn({ broker: where, err: err.message }, 'events mqtt error'));
    client.on('message', (topic, payload, packet) => {
      try {
        o.message?.(topic, payload, packet);
      } catch (err) {
        o.logger.error({ topic, err: errorMessage(err) }, 'events message handler failed');
      }
    });
    await new Promise<void>((resolve) => {
      client.on('connect', () => {
        this.subscribeAll(client).then(resolve, (err: unknown) => {
          o.logger.warn({ err: errorMessage(err) }, 'events subscribe failed; retried on reconnect');
          resolve();
        });
      });
      client.once('error', () => resolve());
      client.once('close', () => resolve());
    });
  }

  private async subscribeAll(client: MqttClient): Promise<void> {
    const filters = this.opts.subscriptions();
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 0 });
    if (!this.stopping) this.opts.connected?.();
  }

  isConnected(): boolean {
    return !this.stopping && this.client?.connected === true;
  }

  /** Bytes written and not yet taken by the kernel: what a broker that does not read leaves in this process. */
  bufferedBytes(): number {
    return (this.client?.stream as { writableLength?: number } | undefined)?.writableLength ?? 0;
  }

  /** QoS 0, now or never: false (and counted) when the broker is away or not keeping up. */
  publish(topic: string, payload: string, retain = false): boolean {
    const client = this.client;
    if (!client || this.stopping || !client.connected || client.disconnecting) return this.dropped('disconnected');
    if (this.bufferedBytes() > MAX_BUFFERED_BYTES) return this.dropped('backlog');
    client.publish(topic, payload, { qos: 0, retain }, (err) => {
      if (err) this.opts.logger.debug({ topic, err: err.message }, 'event publish failed');
    });
    this.counts.published += 1;
    this.opts.counted?.('published');
    return true;
  }

  async subscribe(filters: string[]): Promise<void> {
    if (filters.length > 0 && this.isConnected()) await this.client?.subscribeAsync(filters, { qos: 0 });
  }

  async unsubscribe(filters: string[]): Promise<void> {
    if (filters.length > 0 && this.isConnected()) await this.client?.unsubscribeAsync(filters);
  }

  /**
   * Synchronous on purpose: the gateway's stop budget (part.ts stopBoundMs) has no room for a
   * hung broker here, and nothing is lost that matters. A connected client sends DISCONNECT
   * after what is already written; one that is not is closed at once.
   */
  stop(): void {
    const client = this.client;
    if (!client || this.stopping) return;
    this.stopping = true;
    client.end(!client.connected);
    this.client = null;
  }

  private dropped(reason: DropReason): false {
    this.counts[reason] += 1;
    this.opts.counted?.(reason);
    return false;
  }
}
