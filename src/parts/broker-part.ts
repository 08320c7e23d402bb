import { startEmbeddedBroker } from '../doors/embedded-broker.js';
import type { Part, PartContext } from './part.js';

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
