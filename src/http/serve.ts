import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export interface ServeOptions {
  app: Hono;
  host: string;
  port: number;
  logger: Logger;
  /** Takes a request before the Hono app does (the platform's callbacks: webhook-fast-path.ts). */
  fastPath?: ((req: IncomingMessage, res: ServerResponse) => boolean) | null;
}

/** The gateway's HTTP server: the Hono app behind an optional fast path; resolves once listening. */
export function serveGateway(opts: ServeOptions): Promise<{ server: Server; address: { host: string; port: number } }> {
  const hono = getRequestListener(opts.app.fetch);
  const server = createServer((req, res) => {
    if (opts.fastPath?.(req, res)) return;
    hono(req, res).catch((err: unknown) => opts.logger.error({ err: errorMessage(err) }, 'http request failed'));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({ server, address: { host: opts.host, port: (server.address() as AddressInfo).port } });
    });
  });
}
