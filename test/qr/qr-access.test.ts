import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FailureGuard } from '../../src/access/failure-guard.js';
import { configSchema } from '../../src/config/schema.js';
import { issueMemberToken } from '../../src/qr/issuer.js';
import { memberSubjectOf } from '../../src/qr/member-subject.js';
import { encodeMemberToken } from '../../src/qr/member-token.js';
import { QrAccess } from '../../src/qr/qr-access.js';
import { openDatabase } from '../../src/store/db.js';
import { revokePersonTokens, setPersonState } from '../../src/store/people.js';
import type { VisitLookup, VisitVerifier } from '../../src/upstream/visit-lookup.js';
import { silentLogger } from '../../src/util/log.js';
import { VisitorGate } from '../../src/visitors/visitor-gate.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { H, KEY, T0, memberSite } from './qr-helpers.js';

class CountingVerifier implements VisitVerifier {
  calls = 0;
  answer: VisitLookup = { kind: 'unknown' };
  release: (() => void) | null = null;
  hold = false;
  verifyVisit(): Promise<VisitLookup> {
    this.calls++;
    if (!this.hold) return Promise.resolve(this.answer);
    return new Promise((resolve) => (this.release = () => resolve(this.answer)));
  }
}

describe('QrAccess', () => {
  let site: ReturnType<typeof memberSite>;
  let clock: FakeClock;
  let verifier: CountingVerifier;
  let qr: QrAccess;
  let visitDir: ReturnType<typeof tempDir>;
  let visitDb: ReturnType<typeof openDatabase>;

  beforeEach(() => {
    site = memberSite();
    clock = new FakeClock(T0);
    verifier = new CountingVerifier();
    visitDir = tempDir('lintel-qr-visits-');
    const cfg = configSchema.parse({ site: { id: 'hq' }, doors: [{ id: 'front', visitors: true }, { id: 'lab' }] });
    visitDb = openDatabase(join(visitDir.dir, 'v.db'));
    const visitorGate = new VisitorGate({
      verifier,
      db: visitDb,
      config: cfg.visitors,
      doors: cfg.doors,
      deviceId: 'gw',
      clock,
      logger: silentLogger,
    });
    qr = new QrAccess({ index: site.index, key: KEY, visitorGate, guard: new FailureGuard({ maxFailures: 3, windowSec: 60, lockoutSec: 60 }), clock });
  });
  afterEach(() => {
    site.close();
    visitDb.close();
    visitDir.cleanup();
  });

  const issue = (email: string, now = T0) => issueMemberToken({ db: site.store.db, key: KEY, email, ttlSeconds: 300, now }).token;

  it('decides member tokens synchronously through the person’s grants', () => {
    const id = site.addPerson('ana@example.com', ['front']);
    const token = issue('ana@example.com');
    const d = qr.decide('r1', 'front', token);
    expect(d).not.toBeInstanceOf(Promise);
    expect(d).toEqual({ result: 'granted', reason: 'granted', personId: id });
    expect(qr.decide('r1', 'lab', token)).toEqual({ result: 'denied', reason: 'no_grant', personId: id });
    expect(qr.decide('r1', 'nowhere', token)).toMatchObject({ reason: 'door_unknown' });
  });

  it('refuses expired, tampered and foreign-key tokens', () => {
    site.addPerson('ana@example.com');
    const token = issue('ana@example.com');
    clock.advance(300_000);
    expect(qr.decide('r1', 'front', token)).toMatchObject({ result: 'denied', reason: 'token_expired' });
    const fresh = issue('ana@example.com', clock.now());
    const tampered = fresh.slice(0, 10) + (fresh[10] === 'A' ? 'B' : 'A') + fresh.slice(11);
    expect(qr.decide('r2', 'front', tampered)).toMatchObject({ reason: 'token_invalid' });
    const otherKey = Buffer.alloc(32, 1);
    const foreign = encodeMemberToken(otherKey, { subject: memberSubjectOf(otherKey)('ana@example.com'), issuedAt: T0, expiresAt: T0 + 600_000 });
    expect(qr.decide('r3', 'front', foreign)).toMatchObject({ reason: 'token_invalid' });
  });

  it('revocation: tokensValidAfter voids older tokens; a suspended or unknown person is refused', () => {
    const id = site.addPerson('ana@example.com');
    const old = issue('ana@example.com', T0);
    site.store.transact((tx) => revokePersonTokens(tx, id, T0 + 10_500));
    clock.advance(11_000);
    expect(qr.decide('r1', 'front', old)).toEqual({ result: 'denied', reason: 'token_revoked', personId: id });
    const sameSecond = issue('ana@example.com', T0 + 10_700); // after the revocation, in its second: dated T0 + 11 s
    expect(qr.decide('r2', 'front', sameSecond)).toMatchObject({ result: 'granted' });
    const next = issue('ana@example.com', T0 + 11_000);
    expect(qr.decide('r3', 'front', next)).toMatchObject({ result: 'granted' });
    site.store.transact((tx) => setPersonState(tx, id, 'suspended', T0));
    expect(qr.decide('r4', 'front', next)).toEqual({ result: 'denied', reason: 'person_suspended', personId: id });
    const ghost = encodeMemberToken(KEY, { subject: memberSubjectOf(KEY)('ghost@example.com'), issuedAt: T0, expiresAt: T0 + H });
    expect(qr.decide('r5', 'front', ghost)).toMatchObject({ reason: 'unknown_credential' });
  });

  it('refuses garbage as malformed_read and never sends it upstream', async () => {
    for (const junk of ['', 'A'.repeat(300), 'x\u0001y', 'https://evil.example/']) {
      expect(await qr.decide(`r-${junk.length}`, 'front', junk)).toMatchObject({ result: 'denied', reason: 'malformed_read' });
    }
    expect(verifier.calls).toBe(0);
  });

  it('sends visitor codes to the gate, asynchronously', async () => {
    verifier.answer = { kind: 'found', visit: { visitId: 'V1', status: 'checked_in', validFrom: T0 - H, validTo: T0 + H, visitorEmail: null, hostEmail: null } };
    const pending = qr.decide('r1', 'front', 'v7k2-99qx');
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual({ result: 'granted', reason: 'granted', personId: null });
    const none = new QrAccess({ index: site.index, key: KEY, visitorGate: null, guard: new FailureGuard({ maxFailures: 5, windowSec: 60, lockoutSec: 60 }), clock });
    expect(await none.decide('r1', 'front', 'V7K2-99QX')).toMatchObject({ reason: 'visit_door_not_allowed' });
  });

  it('rate-limits a reader after repeated failures, without asking upstream, until the lockout ends', async () => {
    site.addPerson('ana@example.com');
    for (let i = 0; i < 3; i++) expect(await qr.decide('lobby', 'front', `GUES-${i}000`)).toMatchObject({ reason: 'visit_unknown' });
    expect(verifier.calls).toBe(3);
    expect(await qr.decide('lobby', 'front', 'GUES-9999')).toMatchObject({ reason: 'rate_limited' });
    expect(qr.decide('lobby', 'front', issue('ana@example.com'))).toMatchObject({ reason: 'rate_limited' });
    expect(verifier.calls).toBe(3);
    expect((await qr.decide('other', 'front', 'GUES-1111')).reason).toBe('visit_unknown'); // other readers unaffected
    clock.advance(60_000);
    expect(qr.decide('lobby', 'front', issue('ana@example.com', clock.now()))).toMatchObject({ result: 'granted' });
  });

  it('allows one visitor lookup per reader at a time', async () => {
    verifier.hold = true;
    const first = qr.decide('r1', 'front', 'V7K2-99QX');
    expect(await qr.decide('r1', 'front', 'V7K2-99QX')).toMatchObject({ reason: 'rate_limited' });
    expect(verifier.calls).toBe(1);
    verifier.release?.();
    expect(await first).toMatchObject({ reason: 'visit_unknown' });
  });
});
