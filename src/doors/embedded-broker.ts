import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** aedes speaks MQTT 3.1.1 only: clients of this broker must connect with protocol version 4. */
  protocolVersion: 4;
  close(): Promise<void>;
}

/**
 * An in-process MQTT broker (aedes) for the demo and single-box sites (`mqtt.url: embedded`).
 * Bound to loopback by default: an open broker on the LAN would let anyone publish unlocks.
 */
export async function startEmbeddedBroker(opts: { host?: string; port: number }): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const broker = await Aedes.createBroker();
  // No Nagle towards the doors: a command must not wait behind our unacknowledged PUBACK for a
  // door's ack (the same reason a site's Mosquitto gets `set_tcp_nodelay true`).
  const server: Server = createServer({ noDelay: true }, broker.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    url: `mqtt://${urlHost}:${port}`,
    port,
    protocolVersion: 4,
    close() {
      // Close the broker first (it ends client connections), then the listener, which only
      // finishes once every socket is gone.
      closing ??= new Promise<void>((resolve) => broker.close(() => resolve())).then(
        () => new Promise<void>((resolve) => server.close(() => resolve())),
      );
      return closing;
    },
  };
}
