import { findMosquitto, freePort, startMosquitto } from '../doors/mosquitto-process.js';

/*
 * The demo's broker. Where Mosquitto is installed the demo starts its own on a free loopback
 * port and speaks MQTT 5 to it, so unlocks carry the broker's message expiry as on a site;
 * otherwise the gateway's embedded broker (aedes), which speaks MQTT 3.1.1 only.
 * LINTEL_DEMO_BROKER=embedded picks the embedded one even where Mosquitto is installed.
 */

export interface DemoBroker {
  kind: 'mosquitto' | 'embedded';
  /** The URL for the gateway's config: a real one, or "embedded" for the gateway to start aedes. */
  configUrl: string;
  protocolVersion: 4 | 5;
  stop(): Promise<void>;
}

export async function startDemoBroker(env: NodeJS.ProcessEnv = process.env): Promise<DemoBroker> {
  const binary = env.LINTEL_DEMO_BROKER === 'embedded' ? null : findMosquitto(env);
  if (!binary) return { kind: 'embedded', configUrl: 'embedded', protocolVersion: 4, stop: () => Promise.resolve() };
  const port = await freePort();
  try {
    const broker = await startMosquitto(binary, port);
    return { kind: 'mosquitto', configUrl: broker.url, protocolVersion: 5, stop: broker.stop };
  } catch (err) {
    throw new Error(`${(err as Error).message} (LINTEL_DEMO_BROKER=embedded uses the embedded broker)`, { cause: err });
  }
}
