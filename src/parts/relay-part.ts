import { DoorRelay } from '../doors/door-relay.js';
import { startEmbeddedBroker } from '../doors/embedded-broker.js';
import type { StatusPart } from '../status-builder.js';
import type { FilesPart } from './files-part.js';
import type { ConfigChange, Part, PartContext } from './part.js';

/**
 * The embedded MQTT broker (aedes), when `mqtt.url` is `embedded`: started before the relay
 * that connects to it, stopped after. Elsewhere this part does nothing and the relay connects
 * to the configured broker.
 */
export class BrokerPart implements Part {
  readonly name = 'broker';
  readonly stopBoundMs = 1000;
  private broker: { url: string; close(): Promise<void> } | null = null;

  async start(ctx: PartContext): Promise<void> {
    const mqtt = ctx.config().mqtt;
    if (mqtt.url !== 'embedded') return;
    this.broker = await startEmbeddedBroker({ host: '127.0.0.1', port: mqtt.embeddedPort });
  }

  async stop(): Promise<void> {
    const broker = this.broker;
    this.broker = null;
    await broker?.close();
  }

  /** The embedded broker's URL, or null when the config names another (the demo's door simulators connect here). */
  url(): string | null {
    return this.broker?.url ?? null;
  }
}

/**
 * The doors over MQTT. The broker may be down at start: the relay reconnects by itself and
 * never queues unlocks. With its password or TLS files unusable it waits, and starts on the
 * first retry that finds them fixed (files-part.ts).
 */
export class RelayPart implements Part {
  readonly name = 'relay';
  readonly stopBoundMs = 2000;
  private doorRelay: DoorRelay | null = null;
  private connecting = false;
  /** The URL it connects to, with the embedded broker's address in place of `embedded`. */
  mqttUrl = '';

  constructor(
    private readonly files: FilesPart,
    private readonly broker: BrokerPart,
  ) {}

  async start(ctx: PartContext): Promise<void> {
    const cfg = ctx.config();
    const files = this.files.linkFiles;
    const embedded = this.broker.url();
    this.mqttUrl = embedded ?? cfg.mqtt.url;
    const relay = (this.doorRelay = new DoorRelay({
      mqtt: cfg.mqtt,
      url: this.mqttUrl,
      // The embedded broker (aedes) speaks MQTT 3.1.1 only; the payload's expiresAt still protects.
      protocolVersion: embedded ? 4 : cfg.mqtt.protocolVersion,
      siteId: cfg.site.id,
      doors: cfg.doors,
      clock: ctx.clock,
      logger: ctx.logger.child({ part: 'doors' }),
      countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }),
      // Password and TLS files come from what LinkFiles read and checked, never from the path again.
      readFile: (path) => files.file(path),
    }));
    ctx.metrics.gauge('lintel_mqtt_connected', '1 when the MQTT broker is connected', () => (relay.connected() ? 1 : 0));
    ctx.metrics.watchRelay(relay);
    this.files.onRetried(() => (files.ready('mqtt') ? this.connect() : undefined));
    if (files.ready('mqtt')) await this.connect();
  }

  get relay(): DoorRelay {
    if (!this.doorRelay) throw new Error('the relay part has not started');
    return this.doorRelay;
  }

  async stop(): Promise<void> {
    await this.doorRelay?.stop();
  }

  status(): StatusPart {
    return this.doorRelay ? { relay: this.doorRelay } : {};
  }

  /** pulseMs, driver, topic... from the next pulse on. */
  reloaded(change: ConfigChange): void {
    if (change.config.doors !== change.previous.doors) this.doorRelay?.setDoors(change.config.doors);
  }

  private async connect(): Promise<void> {
    if (this.connecting || !this.doorRelay) return;
    this.connecting = true;
    await this.doorRelay.start();
  }
}
