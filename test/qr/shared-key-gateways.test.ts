import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FailureGuard } from '../../src/access/failure-guard.js';
import type { Decision } from '../../src/access/types.js';
import { issueMemberToken } from '../../src/qr/issuer.js';
import { memberSubjectOf } from '../../src/qr/member-subject.js';
import { encodeMemberToken } from '../../src/qr/member-token.js';
import { setPersonState } from '../../src/store/people.js';
import { QrAccess } from '../../src/qr/qr-access.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { KEY, T0, memberSite } from './qr-helpers.js';

/*
 * Issue 9 #1: two gateways of one site share the token key but number their people
 * differently (people arrive in another order: imports, bookings). A token names a person the
 * same way at both, so it opens B's door as the same person, or not at all.
 */

type Site = ReturnType<typeof memberSite>;

describe('member tokens across two gateways sharing the key', () => {
  let a: Site;
  let b: Site;
  let other: Site;
  const clock = new FakeClock(T0);
  const ids = { a: new Map<string, number>(), b: new Map<string, number>() };
  const access = (site: Site) =>
    new QrAccess({ index: site.index, key: KEY, visitorGate: null, guard: new FailureGuard({ maxFailures: 1000, windowSec: 60, lockoutSec: 1 }), clock });
  const decide = (qr: QrAccess, door: string, token: string) => qr.decide('r1', door, token) as Decision;

  beforeEach(() => {
    a = memberSite();
    b = memberSite();
    other = memberSite({ key: Buffer.alloc(32, 0x11) });
    // Insertion orders differ, so ana, ben and cy have other row ids at B; eve exists only at A,
    // dee only at B.
    for (const [email, doors] of [['ana@example.com', ['front']], ['ben@example.com', ['front']], ['cy@example.com', ['front', 'lab']], ['eve@example.com', ['front', 'lab']]] as const) {
      ids.a.set(email, a.addPerson(email, [...doors]));
    }
    for (const [email, doors] of [['dee@example.com', ['front', 'lab']], ['cy@example.com', ['front']], ['ben@example.com', ['lab']], ['ana@example.com', ['front']]] as const) {
      ids.b.set(email, b.addPerson(email, [...doors]));
    }
    other.addPerson('ana@example.com', ['front']);
  });
  afterEach(() => {
    for (const s of [a, b, other]) s.close();
  });

  const issueAt = (site: Site, email: string, key: Buffer = KEY) => issueMemberToken({ db: site.store.db, key, email, ttlSeconds: 300, now: T0 }).token;

  it('a token issued at A opens B as the same person, where B grants that person the door', () => {
    expect(ids.a.get('ana@example.com')).not.toBe(ids.b.get('ana@example.com'));
    const qrB = access(b);
    expect(decide(qrB, 'front', issueAt(a, 'ana@example.com'))).toEqual({ result: 'granted', reason: 'granted', personId: ids.b.get('ana@example.com') });
    // ben may open the lab at B, not the front door (A's grants do not travel with the token).
    const ben = issueAt(a, 'ben@example.com');
    expect(decide(qrB, 'front', ben)).toEqual({ result: 'denied', reason: 'no_grant', personId: ids.b.get('ben@example.com') });
    expect(decide(qrB, 'lab', ben)).toEqual({ result: 'granted', reason: 'granted', personId: ids.b.get('ben@example.com') });
    // And back: B's token works at A.
    expect(decide(access(a), 'front', issueAt(b, 'cy@example.com'))).toMatchObject({ result: 'granted', personId: ids.a.get('cy@example.com') });
  });

  it('at B a token of A never decides as anyone else; a person B does not know is refused', () => {
    const qrB = access(b);
    for (const email of ids.a.keys()) {
      const token = issueAt(a, email);
      for (const door of ['front', 'lab']) {
        const d = decide(qrB, door, token);
        expect([null, ids.b.get(email)], `${email} at ${door}: ${JSON.stringify(d)}`).toContain(d.personId);
      }
    }
    const eve = issueAt(a, 'eve@example.com');
    expect(decide(qrB, 'front', eve)).toEqual({ result: 'denied', reason: 'unknown_credential', personId: null });
    expect(decide(qrB, 'lab', eve)).toEqual({ result: 'denied', reason: 'unknown_credential', personId: null });
  });

  it('a token made with another key is refused at both', () => {
    const foreign = issueAt(other, 'ana@example.com', Buffer.alloc(32, 0x11));
    expect(decide(access(a), 'front', foreign)).toMatchObject({ result: 'denied', reason: 'token_invalid', personId: null });
    expect(decide(access(b), 'front', foreign)).toMatchObject({ result: 'denied', reason: 'token_invalid', personId: null });
  });
});

describe('member-token subject collisions', () => {
  // A hasher under which ana and ben share a subject: what 64-bit hashes do, very rarely.
  const real = memberSubjectOf(KEY);
  const subjectOf = (email: string) => real(email === 'ben@example.com' ? 'ana@example.com' : email);
  const clock = new FakeClock(T0);
  const tokenFor = (email: string) => encodeMemberToken(KEY, { subject: subjectOf(email), issuedAt: T0, expiresAt: T0 + 300_000 });

  it('refuses everyone sharing a subject, says so, and serves the one left when the other leaves', () => {
    const site = memberSite({ subjectOf });
    try {
      const qr = new QrAccess({ index: site.index, key: KEY, visitorGate: null, guard: new FailureGuard({ maxFailures: 1000, windowSec: 60, lockoutSec: 1 }), clock });
      const ana = site.addPerson('ana@example.com');
      expect(qr.decide('r1', 'front', tokenFor('ana@example.com'))).toMatchObject({ result: 'granted', personId: ana });
      const ben = site.addPerson('ben@example.com');
      expect(site.collisions).toEqual([[ana, ben]]);
      expect(site.index.subjectCollisions()).toBe(1);
      for (const email of ['ana@example.com', 'ben@example.com']) {
        expect(qr.decide('r1', 'front', tokenFor(email))).toEqual({ result: 'denied', reason: 'unknown_credential', personId: null });
      }
      // A refresh of either (any change to them) keeps both refused.
      site.store.transact((tx) => setPersonState(tx, ana, 'active', T0));
      expect(qr.decide('r1', 'front', tokenFor('ana@example.com'))).toMatchObject({ reason: 'unknown_credential', personId: null });
      // ben leaves: the subject is ana's alone again.
      site.store.transact((tx) => void tx.people.remove(ben));
      expect(site.index.subjectCollisions()).toBe(0);
      expect(qr.decide('r1', 'front', tokenFor('ana@example.com'))).toMatchObject({ result: 'granted', personId: ana });
    } finally {
      site.close();
    }
  });
});
