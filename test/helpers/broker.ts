import { startEmbeddedBroker } from '../../src/doors/embedded-broker.js';
import { findMosquitto, freePort, startMosquitto } from '../../src/doors/mosquitto-process.js';

export { freePort };

export interface TestBroker {
  url: string;
  port: number;
  kind: 'mosquitto' | 'embedded';
  /** MQTT protocol versions this broker speaks (aedes: 4 only; mosquitto: 4 and 5). */
  protocolVersions: ReadonlyArray<4 | 5>;
  /** The mosquitto process (fault tests send it SIGSTOP, SIGCONT, SIGKILL); null in-process. */
  pid: number | null;
  stop(): Promise<void>;
}

export interface TestBrokerOptions {
  /** Reuse a port, e.g. to bring a broker "back" where clients expect it. Default: a free one. */
  port?: number;
  /** Force the in-process broker even when mosquitto is installed. */
  embedded?: boolean;
}

async function startTestMosquitto(binary: string, port: number): Promise<TestBroker> {
  const m = await startMosquitto(binary, port, { logToStderr: true });
  return { url: m.url, port, kind: 'mosquitto', protocolVersions: [4, 5], pid: m.pid, stop: m.stop };
}

/** A real broker for tests: mosquitto on a free loopback port when installed, else aedes in-process. */
export async function startTestBroker(opts: TestBrokerOptions = {}): Promise<TestBroker> {
  const binary = opts.embedded ? null : findMosquitto();
  if (binary) return startTestMosquitto(binary, opts.port ?? (await freePort()));
  const broker = await startEmbeddedBroker({ port: opts.port ?? 0 });
  return { url: broker.url, port: broker.port, kind: 'embedded', protocolVersions: [4], pid: null, stop: () => broker.close() };
}
