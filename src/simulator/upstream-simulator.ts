import { serve, type ServerType } from '@hono/node-server';
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { AddressInfo } from 'node:net';
import { createSubscriptionRequestSchema, localDate, verifyVisitRequestSchema, type UpstreamVisit } from '../upstream/schemas.js';
import type { Clock } from '../util/clock.js';
import { BookingModel, type AppointmentPatch, type SimAppointment, type SimEvent, type SimResource } from './booking-model.js';
import { CallbackDelivery } from './delivery.js';

export interface SimSubscription {
  subscriptionId: string;
  callUrl: string;
  resourceIds: string[];
  secret: string;
  createdAt: number;
  expiresAt: number;
}

export interface InjectedFault {
  status: number;
  /** seconds, sent as `retry-after` */
  retryAfterSec?: number;
  /** only requests whose path contains this */
  pathIncludes?: string;
  count: number;
}

export interface SimulatorOptions {
  clock: Clock;
  tokens?: string[];
  /** Lifetime granted to a subscription; the contract allows at most 7 days. */
  subscriptionTtlMs?: number;
  /** How callbacks are sent (default: global fetch over loopback). */
  fetch?: typeof fetch;
}

const MAX_TTL_MS = 7 * 86_400_000;

/**
 * The project's own simulator of the booking platform (shared/spec/upstream-api.md): a real HTTP
 * server on 127.0.0.1, with fault knobs (outage, 429/5xx injection, token revocation, slow
 * answers) and signed callback delivery with the platform's retry schedule on an injected clock.
 */
export class UpstreamSimulator {
  readonly model: BookingModel;
  readonly delivery: CallbackDelivery;
  readonly subscriptions = new Map<string, SimSubscription>();
  readonly visits = new Map<string, UpstreamVisit>();
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** Every endpoint answers 503 while true. */
  outage = false;
  /** While set, requests wait here unanswered (a platform that hangs) until release(). */
  private held: Array<() => void> | null = null;
  private readonly tokens: Set<string>;
  private faults: InjectedFault[] = [];
  private server: ServerType | null = null;
  private url = '';
  private subCounter = 0;
  private readonly clock: Clock;
  private readonly ttlMs: number;

  constructor(opts: SimulatorOptions) {
    this.clock = opts.clock;
    this.tokens = new Set(opts.tokens ?? ['sim-token']);
    this.ttlMs = Math.min(opts.subscriptionTtlMs ?? MAX_TTL_MS, MAX_TTL_MS);
    this.model = new BookingModel(() => this.clock.now());
    this.delivery = new CallbackDelivery(opts.clock, opts.fetch);
  }

  get baseUrl(): string {
    return this.url;
  }

  async start(): Promise<string> {
    const app = this.app();
    await new Promise<void>((resolve, reject) => {
      this.server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
        this.url = `http://127.0.0.1:${info.port}`;
        resolve();
      });
      this.server.once('error', reject);
    });
    return this.url;
  }

  /** From now on, requests hang unanswered (outage tests drive the client's deadline with fake time). */
  hold(): void {
    this.held ??= [];
  }

  /** Answers every held request and stops holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const answer of held) answer();
  }

  async stop(): Promise<void> {
    this.release();
    await this.delivery.idle();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  addResource(r: Partial<SimResource> & { resourceId: string; timeZone: string }): void {
    this.model.resources.set(r.resourceId, { name: r.resourceId, type: 'room', locationId: 'HQ', ...r });
  }

  addToken(token: string): void {
    this.tokens.add(token);
  }

  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  injectFault(fault: Omit<InjectedFault, 'count'> & { count?: number }): void {
    this.faults.push({ count: 1, ...fault });
  }

  addVisit(registrationCode: string, visit: UpstreamVisit): void {
    this.visits.set(registrationCode, visit);
  }

  createAppointment(input: Omit<SimAppointment, 'appointmentId' | 'status' | 'updatedAt' | 'attendees'> & { appointmentId?: string; attendees?: SimAppointment['attendees'] }): string {
    const events = this.model.create({ attendees: [], ...input });
    this.emit(events);
    return events[0]!.appointmentId;
  }

  updateAppointment(appointmentId: string, patch: AppointmentPatch): void {
    this.emit(this.model.update(appointmentId, patch));
  }

  /** A move is an update of start/end and maybe resource; events name old and new dates. */
  moveAppointment(appointmentId: string, to: { start: number; end: number; resourceId?: string }): void {
    this.updateAppointment(appointmentId, to);
  }

  cancelAppointment(appointmentId: string): void {
    this.emit(this.model.cancel(appointmentId));
  }

  liveSubscriptions(): SimSubscription[] {
    const now = this.clock.now();
    return [...this.subscriptions.values()].filter((s) => s.expiresAt > now);
  }

  requestCount(pathIncludes: string): number {
    return this.requests.filter((r) => r.path.includes(pathIncludes)).length;
  }

  private emit(events: SimEvent[]): void {
    for (const e of events) {
      for (const sub of this.liveSubscriptions()) {
        if (!sub.resourceIds.includes(e.resourceId)) continue;
        this.delivery.enqueue(sub, { subscriptionId: sub.subscriptionId, ...e });
      }
    }
  }

  private authorized(c: Context): boolean {
    const header = c.req.header('authorization') ?? '';
    if (this.tokens.has(header)) return true;
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (!basic) return false;
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 && decoded.slice(colon + 1) === '' && this.tokens.has(decoded.slice(0, colon));
  }

  private app(): Hono {
    const app = new Hono();
    app.use('*', async (c, next) => {
      const held = this.held;
      if (held) await new Promise<void>((r) => held.push(r));
      const path = c.req.path + (new URL(c.req.url).search ?? '');
      const fault = this.faults.find((f) => !f.pathIncludes || path.includes(f.pathIncludes));
      let early: Response | null = null;
      if (this.outage) early = c.json({ error: 'service unavailable' }, 503);
      else if (!this.authorized(c)) early = c.json({ error: 'unauthorized' }, 401);
      else if (fault) {
        if (--fault.count <= 0) this.faults = this.faults.filter((f) => f !== fault);
        const headers: Record<string, string> = fault.retryAfterSec === undefined ? {} : { 'retry-after': String(fault.retryAfterSec) };
        early = c.json({ error: 'injected fault' }, fault.status as 429, headers);
      }
      if (early) {
        this.requests.push({ method: c.req.method, path, status: early.status });
        return early;
      }
      await next();
      this.requests.push({ method: c.req.method, path, status: c.res.status });
    });
    const api = '/API/external';
    app.get(`${api}/system/v1/information`, (c) => c.json({ name: 'Offision simulator', version: '1.0' }));
    app.get(`${api}/booking/v1/resources`, (c) =>
      c.json({ resources: [...this.model.resources.values()].map(({ resourceId, name, type, locationId }) => ({ resourceId, name, type, locationId })) }),
    );
    app.post(`${api}/booking/v1/subscriptions`, async (c) => {
      const parsed = createSubscriptionRequestSchema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json({ error: parsed.error.issues[0]?.message ?? 'invalid body' }, 400);
      const unknown = parsed.data.resourceIds.filter((id) => !this.model.resources.has(id));
      if (unknown.length > 0) return c.json({ error: `unknown resources: ${unknown.join(', ')}` }, 400);
      const now = this.clock.now();
      const sub: SimSubscription = {
        subscriptionId: `S-${++this.subCounter}-${randomBytes(3).toString('hex')}`,
        callUrl: parsed.data.callUrl,
        resourceIds: [...new Set(parsed.data.resourceIds)],
        secret: parsed.data.secret,
        createdAt: now,
        expiresAt: now + this.ttlMs,
      };
      this.subscriptions.set(sub.subscriptionId, sub);
      return c.json({ subscriptionId: sub.subscriptionId, expiresAt: new Date(sub.expiresAt).toISOString() }, 201);
    });
    app.get(`${api}/booking/v1/subscriptions`, (c) =>
      c.json({
        subscriptions: this.liveSubscriptions().map((s) => ({
          subscriptionId: s.subscriptionId,
          callUrl: s.callUrl,
          resourceIds: s.resourceIds,
          expiresAt: new Date(s.expiresAt).toISOString(),
        })),
      }),
    );
    app.delete(`${api}/booking/v1/subscriptions/:id`, (c) => {
      const id = c.req.param('id');
      if (!this.subscriptions.has(id) || this.subscriptions.get(id)!.expiresAt <= this.clock.now()) return c.json({ error: 'not found' }, 404);
      this.subscriptions.delete(id);
      return c.body(null, 204);
    });
    app.get(`${api}/booking/v1/resources/:id/appointments`, (c) => {
      const date = localDate.safeParse(c.req.query('date'));
      if (!date.success) return c.json({ error: 'date must be YYYY-MM-DD' }, 400);
      const id = c.req.param('id');
      if (!this.model.resources.has(id)) return c.json({ error: 'unknown resource' }, 404);
      return c.json(this.model.dailyList(id, date.data));
    });
    app.post(`${api}/receptionist/v1/visits/verify`, async (c) => {
      const parsed = verifyVisitRequestSchema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json({ error: 'invalid body' }, 400);
      const visit = this.visits.get(parsed.data.registrationCode);
      return visit ? c.json(visit) : c.json({ error: 'unknown registration code' }, 404);
    });
    app.notFound((c) => c.json({ error: 'not found' }, 404));
    return app;
  }
}
