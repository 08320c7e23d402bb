import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ConsoleEnv } from '../console/operator.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { RequestTurns } from './request-turns.js';
import { webhookFastPath, type CallbackRoute } from './webhook-fast-path.js';
import { v1Forward, type V1ForwardOptions } from './v1-forward.js';

export interface ServeOptions {
  app: Pick<Hono<ConsoleEnv>, 'fetch'>;
  host: string;
  port: number;
  logger: Logger;
  /**
   * The platform's callbacks, answered before the Hono app sees them (webhook-fast-path.ts),
   * with the app's own host names and the link's body cap; null without a platform link.
   */
  webhook?: { route: CallbackRoute; allowedHosts: readonly string[] } | null;
  /**
   * The provisioning API's thread (http/v1-forward.ts): /api/v1 requests go there after the
   * app's guards, and never reach the Hono app; null when the app mounts /api/v1 itself.
   */
  v1?: Omit<V1ForwardOptions, 'logger'> | null;
  /** http.tls, read (config/preflight.ts): serve HTTPS with it; plain HTTP without. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
}

/** The gateway's HTTP(S) server: the Hono app behind the API's forwarder and the callbacks' fast path, each optional; resolves once listening. */
export function serveGateway(opts: ServeOptions): Promise<{ server: Server; address: { host: string; port: number } }> {
  const hono = getRequestListener(opts.app.fetch);
  const w = opts.webhook;
  const fastPath: ((req: IncomingMessage, res: ServerResponse) => boolean) | null = w
    ? webhookFastPath({ route: w.route, allowedHosts: w.allowedHosts, logger: opts.logger })
    : null;
  const v1 = opts.v1 ? v1Forward({ ...opts.v1, logger: opts.logger }) : null;
  const turns = new RequestTurns(opts.logger);
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (v1?.(req, res)) return;
    if (fastPath?.(req, res)) return;
    turns.enter(() => void hono(req, res).catch((err: unknown) => opts.logger.error({ err: errorMessage(err) }, 'http request failed')));
  };
  // node:https's Server is an http.Server with TLS under it: the same handler, close and connection cut.
  const server: Server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, handle) : createServer(handle);
  // A handshake that fails (a scanner, a client refusing the certificate) is the client's problem, not an error of ours.
  server.on('tlsClientError', (err: Error) => opts.logger.debug({ err: errorMessage(err) }, 'tls handshake failed'));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({ server, address: { host: opts.host, port: (server.address() as AddressInfo).port } });
    });
  });
}
