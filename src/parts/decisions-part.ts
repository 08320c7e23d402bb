import type { AccessIndex } from '../access/access-index.js';
import { FailureGuard } from '../access/failure-guard.js';
import { BadgePipeline } from '../pipeline/badge-pipeline.js';
import { DecisionRecorder } from '../pipeline/decision-recorder.js';
import { FloodCollapser } from '../pipeline/flood-collapse.js';
import { RecentDecisions } from '../pipeline/recent-decisions.js';
import { LearnMode } from '../readers/learn-mode.js';
import { createMemberQrIssuer, type IssuedToken } from '../qr/issuer.js';
import { QrAccess } from '../qr/qr-access.js';
import { createQrRoutes } from '../qr/routes.js';
import type { StatusPart } from '../status-builder.js';
import { VisitorGate } from '../visitors/visitor-gate.js';
import type { AccessPart } from './access-part.js';
import type { Part, PartContext, PartRoutes } from './part.js';
import type { RelayPart } from './relay-part.js';
import type { IndexPart } from './index-part.js';
import type { StorePart } from './store-part.js';
import type { UpstreamPart } from './upstream-part.js';

interface Running {
  pipeline: BadgePipeline;
  learn: LearnMode;
  recorder: DecisionRecorder;
  collapser: FloodCollapser;
  cardGuard: FailureGuard;
  issueQr: (email: string) => IssuedToken;
}

/**
 * The pipeline every reader feeds: QR credentials and visitors, card-guessing guard, the
 * decision recorder (audit rows, flood collapse, recent decisions) and the member-QR issuer.
 * Stopped after the readers, so it flushes what they read last into the audit log.
 */
export class DecisionsPart implements Part {
  readonly name = 'decisions';
  readonly stopBoundMs = 1500;
  /** Made with the part, not at start: the demo and tests subscribe before the gateway starts. */
  readonly recent = new RecentDecisions();
  private running: Running | null = null;
  /** When each reader's last line was decided: the status page's "last read". */
  private readonly lastReads = new Map<string, number>();
  private clockNow: () => number = () => 0;

  constructor(
    private readonly store: StorePart,
    private readonly index: IndexPart,
    private readonly relay: RelayPart,
    private readonly upstream: UpstreamPart,
    private readonly access: AccessPart,
  ) {}

  start(ctx: PartContext): void {
    const cfg = ctx.config();
    const { store, audit, key } = this.store.site;
    const upstream = this.upstream;
    const accessLog = ctx.logger.child({ part: 'access' });
    this.clockNow = () => ctx.clock.now();
    // A code read at a door is verified by the platform of the door's location; a location
    // without a running link (disconnected) answers as the platform being down: the offline policy.
    const visitorGate = upstream.hasPlatform()
      ? new VisitorGate({
          verifier: (doorId) => upstream.linkForDoor(doorId)?.client ?? null,
          db: store.db,
          config: cfg.visitors,
          doors: cfg.doors,
          deviceId: cfg.visitors.deviceId ?? `lintel-${cfg.site.id}`,
          clock: ctx.clock,
          logger: ctx.logger.child({ part: 'visitors' }),
        })
      : null;
    // Through the index part, never an AccessIndex: a rebuilt index is swapped in there.
    const live = this.index;
    const qr = new QrAccess({ get index(): AccessIndex { return live.index; }, key, visitorGate, guard: new FailureGuard(cfg.bruteForce, accessLog), clock: ctx.clock, policy: this.access.policy });
    const recorder = new DecisionRecorder({ audit, clock: ctx.clock, logger: accessLog, metrics: ctx.metrics, recent: this.recent, maxQueuedRows: cfg.audit.maxQueuedRows });
    const collapser = new FloodCollapser(recorder, ctx.clock, { perSecond: cfg.audit.floodRowsPerSecond });
    recorder.onDecision((e) => this.lastReads.set(e.readerId, e.at));
    const cardGuard = new FailureGuard(cfg.bruteForce.cards, accessLog);
    const learn = new LearnMode(ctx.clock);
    const pipeline = new BadgePipeline({ learn, get index(): AccessIndex { return live.index; }, relay: this.relay.relay, recorder: collapser, clock: ctx.clock, logger: accessLog, qr, cardGuard, policy: this.access.policy, opened: (personId, readerId, at) => this.access.opened(personId, readerId, at) });
    const issueQr = createMemberQrIssuer({ db: store.db, key, ttlSeconds: cfg.qr.ttlSeconds, clock: ctx.clock });
    this.running = { pipeline, learn, recorder, collapser, cardGuard, issueQr };
  }

  get pipeline(): BadgePipeline {
    return this.started.pipeline;
  }

  /** Enrolment: the console's operator actions arm a reader through it. */
  get learn(): LearnMode {
    return this.started.learn;
  }

  /** Issues a member QR token for an email (the demo's /qr and the HTTP API use it). */
  get issueQr(): (email: string) => IssuedToken {
    return this.started.issueQr;
  }

  /** No read can arrive any more (the readers stopped first): collapsed flood rows, then the recorder's queue. */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.collapser.flush();
    await running.recorder.flush();
  }

  routes(): PartRoutes {
    const issue = this.started.issueQr;
    return { api: createQrRoutes({ issue }) };
  }

  status(): StatusPart {
    const running = this.running;
    if (!running) return { recent: this.recent, lastReads: this.lastReads };
    return {
      recent: this.recent,
      lastReads: this.lastReads,
      auditBacklog: running.recorder.auditBacklog(),
      alarms: running.cardGuard.locks(this.clockNow()).map((l) => ({ kind: 'reader_locked' as const, ...l, detail: 'too many unknown card reads; every read on it is refused until then' })),
    };
  }

  private get started(): Running {
    if (!this.running) throw new Error('the decisions part has not started');
    return this.running;
  }
}
