import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemberQrIssuer, issueMemberToken, QrIssueError } from '../../src/qr/issuer.js';
import { memberSubjectOf } from '../../src/qr/member-subject.js';
import { verifyMemberToken } from '../../src/qr/member-token.js';
import { importCards } from '../../src/store/card-import.js';
import { createQrRoutes } from '../../src/qr/routes.js';
import { setPersonState } from '../../src/store/people.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { KEY, T0, memberSite } from './qr-helpers.js';

describe('issuing member tokens', () => {
  let site: ReturnType<typeof memberSite>;
  beforeEach(() => {
    site = memberSite();
  });
  afterEach(() => site.close());

  it('issues a token for a known person (email case-insensitive), valid for ttlSeconds', () => {
    const id = site.addPerson('ana@example.com');
    const issued = issueMemberToken({ db: site.store.db, key: KEY, email: 'Ana@Example.com', ttlSeconds: 300, now: T0 + 1234 });
    expect(issued.personId).toBe(id);
    expect(issued.expiresAt).toBe(T0 + 1000 + 300_000);
    expect(verifyMemberToken(KEY, issued.token, T0 + 2000)).toEqual({
      ok: true,
      subject: memberSubjectOf(KEY)('ana@example.com'),
      issuedAt: T0 + 1000,
      expiresAt: issued.expiresAt,
    });
  });

  it('throws typed errors for an unknown email and a suspended person', () => {
    const id = site.addPerson('li@example.com');
    site.store.transact((tx) => setPersonState(tx, id, 'suspended', T0));
    const issue = createMemberQrIssuer({ db: site.store.db, key: KEY, ttlSeconds: 60, clock: new FakeClock(T0) });
    expect(() => issue('nobody@example.com')).toThrow(expect.objectContaining({ code: 'unknown_person' }));
    expect(() => issue('li@example.com')).toThrow(QrIssueError);
    expect(() => issue('li@example.com')).toThrow(expect.objectContaining({ code: 'person_suspended' }));
  });

  it('serves POST /qr/tokens: 201, 404, 409 and 400', async () => {
    site.addPerson('ana@example.com');
    const suspended = site.addPerson('sam@example.com');
    site.store.transact((tx) => setPersonState(tx, suspended, 'suspended', T0));
    const app = createQrRoutes({ issue: createMemberQrIssuer({ db: site.store.db, key: KEY, ttlSeconds: 300, clock: new FakeClock(T0) }) });
    const post = (body: string) => app.request('/qr/tokens', { method: 'POST', body, headers: { 'content-type': 'application/json' } });

    const ok = await post(JSON.stringify({ email: 'ana@example.com' }));
    expect(ok.status).toBe(201);
    const body = (await ok.json()) as { token: string; expiresAt: string };
    expect(body.expiresAt).toBe('2026-11-22T10:05:00.000Z');
    expect(verifyMemberToken(KEY, body.token, T0)).toMatchObject({ ok: true, subject: memberSubjectOf(KEY)('ana@example.com') });

    expect((await post(JSON.stringify({ email: 'nobody@example.com' }))).status).toBe(404);
    expect((await post(JSON.stringify({ email: 'sam@example.com' }))).status).toBe(409);
    importCards(site.store, 'email,card,state\nlee@example.com,4001,lost\n', T0);
    const lost = await post(JSON.stringify({ email: 'lee@example.com' }));
    expect(lost.status).toBe(409);
    expect(await lost.json()).toEqual({ error: 'every card of the person is disabled or lost' });
    for (const bad of ['not json', '{}', '{"email":"not-an-email"}', '{"email":"ana@example.com","extra":1}', '[]']) {
      expect((await post(bad)).status, bad).toBe(400);
    }
  });
});
