import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyVisitRequestSchema } from '../../src/upstream/schemas.js';
import type { VisitStatus } from '../../src/upstream/visit-lookup.js';

/*
 * A small receptionist endpoint (upstream-api.md section 6) on 127.0.0.1, written from the spec
 * independently of our simulator, so visitor tests drive the production UpstreamClient over
 * real loopback HTTP with real timeouts.
 */

export interface ServedVisit {
  visitId: string;
  status: VisitStatus;
  validFrom: string;
  validTo: string;
}

export type ServerMode = 'normal' | 'hang' | '503';

export class VisitServer {
  mode: ServerMode = 'normal';
  /** How long a 'normal' answer waits before it is sent (a slow platform). */
  delayMs = 0;
  readonly visits = new Map<string, ServedVisit>();
  readonly requests: { registrationCode: string; deviceId: string; authorization: string | undefined }[] = [];
  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(token = 'test-token'): Promise<VisitServer> {
    let self: VisitServer | null = null;
    const server = createServer((req, res) => void self?.handle(req, res, token));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new VisitServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    if (req.method !== 'POST' || req.url !== '/API/external/receptionist/v1/visits/verify') return send(res, 404, { error: 'not found' });
    if (req.headers.authorization !== token) return send(res, 401, { error: 'unauthorized' });
    const body = verifyVisitRequestSchema.safeParse(safeJson(raw));
    if (!body.success) return send(res, 400, { error: 'bad request' });
    this.requests.push({ ...body.data, authorization: req.headers.authorization });
    if (this.mode === 'hang') return; // "answers within 2 seconds or not at all"
    if (this.mode === '503') return send(res, 503, { error: 'maintenance' });
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const visit = this.visits.get(body.data.registrationCode);
    if (!visit) return send(res, 404, { error: 'unknown registration code' });
    send(res, 200, {
      visitId: visit.visitId,
      visitor: { name: 'Sam Roe', email: 'sam@partner.example', company: 'Partner BV' },
      host: { name: 'Ana Silva', email: 'ana@example.com' },
      status: visit.status,
      validFrom: visit.validFrom,
      validTo: visit.validTo,
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}
