import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideCard } from '../../src/access/decide.js';
import { FailureGuard } from '../../src/access/failure-guard.js';
import type { Decision } from '../../src/access/types.js';
import { issueMemberToken, QrIssueError } from '../../src/qr/issuer.js';
import { QrAccess } from '../../src/qr/qr-access.js';
import { importCards } from '../../src/store/card-import.js';
import { reinstateMember, revokeMemberTokens, suspendMember, UnknownMemberError } from '../../src/store/member-admin.js';
import { findPersonByEmail } from '../../src/store/people.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { H, KEY, T0, memberSite } from './qr-helpers.js';

/*
 * Issue 9 #8: suspend / reinstate a person and revoke their member tokens, through the use
 * cases the CLI (and later the provisioning API) call, on a real SQLite file; and a person
 * whose cards were all taken away gets no member token and cannot use one.
 */

type Site = ReturnType<typeof memberSite>;

describe('suspend, reinstate and revoke', () => {
  let site: Site;
  let clock: FakeClock;
  let qr: QrAccess;

  beforeEach(() => {
    site = memberSite();
    clock = new FakeClock(T0);
    qr = accessAt(site);
  });
  afterEach(() => site.close());

  const accessAt = (s: Site) =>
    new QrAccess({ index: s.index, key: KEY, visitorGate: null, guard: new FailureGuard({ maxFailures: 1000, windowSec: 60, lockoutSec: 1 }), clock });
  const issue = (email: string, now: number, s: Site = site) => issueMemberToken({ db: s.store.db, key: KEY, email, ttlSeconds: 300, now }).token;
  const door = (token: string, at = qr) => at.decide('r1', 'front', token) as Decision;
  const cards = (csv: string, now = T0 - H, s: Site = site) => importCards(s.store, `email,card,state,doors\n${csv}`, now);
  const personId = (email: string) => findPersonByEmail(site.store.db, email)!.id;

  it('a suspended person’s cards and tokens are refused; reinstating lets the cards in, not the old tokens', () => {
    cards('ana@example.com,1001,active,front\n');
    const before = issue('ana@example.com', T0);
    expect(door(before)).toMatchObject({ result: 'granted' });

    expect(suspendMember(site.store, 'Ana@Example.com ', T0 + 1_000)).toMatchObject({ changed: true, state: 'suspended' });
    expect(suspendMember(site.store, 'ana@example.com', T0 + 1_500)).toMatchObject({ changed: false, state: 'suspended' });
    clock.advance(T0 + 2_000 - clock.now());
    const id = personId('ana@example.com');
    expect(decideCard(site.index, '1001', 'front', clock.now())).toEqual({ result: 'denied', reason: 'person_suspended', personId: id });
    expect(door(before)).toMatchObject({ result: 'denied', personId: id });
    expect(() => issue('ana@example.com', T0 + 2_000)).toThrow(expect.objectContaining({ code: 'person_suspended' }));

    expect(reinstateMember(site.store, 'ana@example.com', T0 + 3_000)).toMatchObject({ changed: true, state: 'active' });
    clock.advance(T0 + 4_000 - clock.now());
    expect(decideCard(site.index, '1001', 'front', clock.now())).toMatchObject({ result: 'granted' });
    expect(door(before)).toEqual({ result: 'denied', reason: 'token_revoked', personId: id }); // suspension voided it
    expect(door(issue('ana@example.com', T0 + 4_000))).toMatchObject({ result: 'granted', personId: id });
  });

  it('revoke refuses every token issued before it; one issued after it works, even within the same second', () => {
    cards('ana@example.com,1001,active,front\n');
    const early = issue('ana@example.com', T0);
    const justBefore = issue('ana@example.com', T0 + 10_400);
    expect(revokeMemberTokens(site.store, 'ana@example.com', T0 + 10_500)).toMatchObject({ changed: true });
    const justAfter = issue('ana@example.com', T0 + 10_700);
    clock.advance(T0 + 10_800 - clock.now());
    const id = personId('ana@example.com');
    expect(door(early)).toEqual({ result: 'denied', reason: 'token_revoked', personId: id });
    expect(door(justBefore)).toEqual({ result: 'denied', reason: 'token_revoked', personId: id });
    expect(door(justAfter)).toEqual({ result: 'granted', reason: 'granted', personId: id });
    expect(decideCard(site.index, '1001', 'front', clock.now())).toMatchObject({ result: 'granted' }); // cards are not tokens
  });

  it('an unknown email is a typed error and writes nothing', () => {
    cards('ana@example.com,1001,active,front\n');
    const before = site.store.db.prepare('SELECT * FROM people').all();
    for (const run of [suspendMember, reinstateMember, revokeMemberTokens]) {
      expect(() => run(site.store, 'nobody@example.com', T0)).toThrow(UnknownMemberError);
    }
    expect(site.store.db.prepare('SELECT * FROM people').all()).toEqual(before);
  });

  it('a person whose cards are all disabled or lost gets no token, and a token from elsewhere is refused at the door', () => {
    // A second gateway with the same key where ana's card is still active issues her a token.
    const elsewhere = memberSite();
    try {
      cards('ana@example.com,1001,active,front\nbo@example.com,2001,active,front\n', T0 - H, elsewhere);
      cards('ana@example.com,1001,disabled,front\nbo@example.com,2001,lost,front\n');
      for (const email of ['ana@example.com', 'bo@example.com']) {
        expect(() => issue(email, T0)).toThrow(QrIssueError);
        expect(() => issue(email, T0)).toThrow(expect.objectContaining({ code: 'no_active_card' }));
        expect(door(issue(email, T0, elsewhere))).toEqual({ result: 'denied', reason: 'credential_disabled', personId: personId(email) });
      }
    } finally {
      elsewhere.close();
    }
  });

  it('a pending member (no card at all) and one with an active card among disabled ones are served', () => {
    const pat = site.addPerson('pat@example.com', ['front']); // as a booking sync creates people: no card
    cards('cy@example.com,3001,lost,front\ncy@example.com,3002,active,front\n');
    expect(door(issue('pat@example.com', T0))).toEqual({ result: 'granted', reason: 'granted', personId: pat });
    expect(door(issue('cy@example.com', T0))).toMatchObject({ result: 'granted', personId: personId('cy@example.com') });
  });

  it('disabling a card through the import revokes the tokens issued before; re-importing an unchanged row does not', () => {
    cards('ana@example.com,1001,active,front\nana@example.com,1002,active,front\n');
    const before = issue('ana@example.com', T0);
    cards('ana@example.com,1001,active,front\nana@example.com,1002,lost,front\n', T0 + 5_000);
    const after = issue('ana@example.com', T0 + 6_000);
    cards('ana@example.com,1001,active,front\nana@example.com,1002,lost,front\n', T0 + 7_000); // the same file again
    clock.advance(T0 + 8_000 - clock.now());
    expect(door(before)).toMatchObject({ result: 'denied', reason: 'token_revoked' });
    expect(door(after)).toMatchObject({ result: 'granted', personId: personId('ana@example.com') });
    expect(decideCard(site.index, '1001', 'front', clock.now())).toMatchObject({ result: 'granted' });
    expect(decideCard(site.index, '1002', 'front', clock.now())).toMatchObject({ result: 'denied', reason: 'credential_lost' });
  });
});
