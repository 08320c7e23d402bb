import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import mqtt, { MqttClient, type IClientOptions, type IPublishPacket } from 'mqtt';
import type { DoorConfig } from '../../src/config/schema.js';
import type { MqttConfig } from '../../src/doors/mqtt-options.js';

export const PREFIX = 'lintel';
export const SITE = 'hq';

export function door(id: string, over: Partial<DoorConfig> = {}): DoorConfig {
  return { id, driver: 'lintel', pulseMs: 3000, relay: { channel: 1 }, commandTtlMs: 2000, visitors: false, alarms: { heldOpenSeconds: 30, forcedOpen: true }, ...over };
}

export function mqttConfig(url: string, protocolVersion: 4 | 5 = 5): MqttConfig {
  return { url, embeddedPort: 1883, topicPrefix: PREFIX, protocolVersion, keepaliveSec: 30 };
}

/** Resolves with the first value `probe` yields after subscribing; rejects after `ms` (a bound, not a sleep). */
export function waitFor<T>(what: string, subscribe: (fn: () => void) => () => void, probe: () => T | undefined, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const first = probe();
    if (first !== undefined) return resolve(first);
    const timer = setTimeout(() => { unsubscribe(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
    const unsubscribe = subscribe(() => {
      const value = probe();
      if (value === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

/** A raw MQTT client that records every PUBLISH it receives, with the packet (retain flag, properties). */
export class Observer {
  readonly packets: IPublishPacket[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(readonly client: MqttClient) {
    client.on('message', (_topic, _payload, packet) => {
      this.packets.push(packet);
      for (const fn of [...this.listeners]) fn();
    });
  }

  static async connect(url: string, protocolVersion: 4 | 5 = 5): Promise<Observer> {
    return new Observer(await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0 }));
  }

  /** rap (MQTT 5 retain-as-published) keeps the publisher's retain flag on live deliveries. */
  async subscribe(topic: string, rap = false): Promise<void> {
    await this.client.subscribeAsync(topic, { qos: 1, ...(rap ? { rap: true } : {}) });
  }

  on(topic: string): IPublishPacket[] {
    return this.packets.filter((p) => p.topic === topic && p.payload.length > 0);
  }

  json(p: IPublishPacket): Record<string, unknown> {
    return JSON.parse(p.payload.toString()) as Record<string, unknown>;
  }

  /** The first matching packet received after this call. */
  next(what: string, match: (p: IPublishPacket) => boolean, ms = 5000): Promise<IPublishPacket> {
    return this.matching(what, this.packets.length, match, ms);
  }

  /** The first matching packet ever received (retained ones may beat the SUBACK's promise). */
  first(what: string, match: (p: IPublishPacket) => boolean, ms = 5000): Promise<IPublishPacket> {
    return this.matching(what, 0, match, ms);
  }

  private matching(what: string, start: number, match: (p: IPublishPacket) => boolean, ms: number): Promise<IPublishPacket> {
    return waitFor(what, (fn) => { this.listeners.add(fn); return () => void this.listeners.delete(fn); },
      () => this.packets.slice(start).find(match), ms);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/**
 * An mqtt.connect replacement whose (re)connects only reach the broker while `open`: a closed
 * gate sends each attempt to a port nobody listens on, so the test decides when a reconnect wins.
 */
export function gatedConnect(brokerPort: number, deadPort: number): { connect: typeof mqtt.connect; gate: { open: boolean }; clients: MqttClient[] } {
  const gate = { open: true };
  const clients: MqttClient[] = [];
  const connect = ((_url: string, opts: IClientOptions) => {
    const client = new MqttClient(() => netConnect({ host: '127.0.0.1', port: gate.open ? brokerPort : deadPort }), opts);
    clients.push(client);
    return client;
  }) as typeof mqtt.connect;
  return { connect, gate, clients };
}

/** TCP proxy that can swallow traffic (a half-dead link) and then cut every connection. */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private swallowing = false;
  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer((inbound) => {
      const outbound = netConnect({ host: '127.0.0.1', port: targetPort });
      for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
        proxy?.sockets.add(from);
        from.on('data', (chunk: Buffer) => { if (!proxy?.swallowing) to.write(chunk); });
        from.on('close', () => { to.destroy(); proxy?.sockets.delete(from); });
        from.on('error', () => undefined);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  swallow(): void {
    this.swallowing = true;
  }

  /** Destroys every live connection; new ones are forwarded normally again. */
  cut(): void {
    this.swallowing = false;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
