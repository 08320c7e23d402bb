import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recentChanges } from '../../../src/store/change-audit.js';
import { tableHashes, v1Site, type V1Site } from '../../helpers/v1-api.js';

/*
 * People and their cards through /api/v1 with app.request(): idempotent PUT by natural key,
 * ETag / If-Match, the card conflict, the audit of each accepted change by token name.
 */

type Body = Record<string, unknown> & { error?: { code: string; field?: string } };
const read = async (res: Response): Promise<Body> => (await res.json()) as Body;

describe('/api/v1/people', () => {
  let s: V1Site;
  beforeEach(() => {
    s = v1Site();
  });
  afterEach(() => s.close());

  it('creates with PUT (201 + ETag), and an identical retry is a 200 with the same ETag that writes nothing', async () => {
    const body = { name: 'Ana Lima', groups: ['staff'], validFrom: '2026-12-01T00:00:00Z' };
    const first = await s.call('PUT', '/api/v1/people/Ana@Example.com', { body });
    expect(first.status).toBe(201);
    const created = await read(first);
    expect(created).toMatchObject({ email: 'ana@example.com', name: 'Ana Lima', state: 'active', pending: true, validFrom: '2026-12-01T00:00:00.000Z', groups: [{ group: 'staff', validFrom: null, validTo: null }], cards: [] });
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const before = tableHashes(s.store.db);
    s.clock.advance(5000);
    const retry = await s.call('PUT', '/api/v1/people/ana@example.com', { body });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('etag')).toBe(etag);
    expect(tableHashes(s.store.db)).toEqual(before);
    expect(recentChanges(s.store, 10).filter((c) => c.action.startsWith('person.')).map((c) => [c.actor, c.action, c.target])).toEqual([['api:t-write', 'person.create', 'ana@example.com']]);
  });

  it('GET gives the person with their ETag; a PUT with a stale If-Match is a 412 that changes nothing', async () => {
    const made = await s.call('PUT', '/api/v1/people/bo@example.com', { body: { name: 'Bo' } });
    const v1 = made.headers.get('etag')!;
    const got = await s.call('GET', '/api/v1/people/bo@example.com', { token: s.tokens.read });
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe(v1);
    const renamed = await s.call('PUT', '/api/v1/people/bo@example.com', { body: { name: 'Bo Berg' }, headers: { 'if-match': v1 } });
    expect(renamed.status).toBe(200);
    const v2 = renamed.headers.get('etag')!;
    expect(v2).not.toBe(v1);
    const before = tableHashes(s.store.db);
    const stale = await s.call('PUT', '/api/v1/people/bo@example.com', { body: { name: 'Someone Else' }, headers: { 'if-match': v1 } });
    expect(stale.status).toBe(412);
    expect((await read(stale)).error).toMatchObject({ code: 'precondition_failed', field: 'header.if-match' });
    expect(tableHashes(s.store.db)).toEqual(before);
    expect((await s.call('PUT', '/api/v1/people/new@example.com', { body: {}, headers: { 'if-match': '*' } })).status).toBe(412);
    expect((await s.call('DELETE', '/api/v1/people/bo@example.com', { headers: { 'if-match': v2 } })).status).toBe(204);
    expect((await s.call('GET', '/api/v1/people/bo@example.com')).status).toBe(404);
    expect((await s.call('DELETE', '/api/v1/people/bo@example.com')).status).toBe(404);
  });

  it('suspending by PUT voids the member tokens issued so far; reinstating keeps them void', async () => {
    await s.call('PUT', '/api/v1/people/cy@example.com', { body: {} });
    const before = s.store.read((tx) => tx.people.byEmail('cy@example.com')!.tokens_valid_after);
    const suspended = await read(await s.call('PUT', '/api/v1/people/cy@example.com', { body: { state: 'suspended' } }));
    expect(suspended.state).toBe('suspended');
    const after = s.store.read((tx) => tx.people.byEmail('cy@example.com')!.tokens_valid_after);
    expect(after).toBeGreaterThan(before);
    await s.call('PUT', '/api/v1/people/cy@example.com', { body: { state: 'active' } });
    expect(s.store.read((tx) => tx.people.byEmail('cy@example.com')!.tokens_valid_after)).toBe(after);
  });

  it('cards: any format normalised, idempotent, a card of someone else is a 409 and never moves', async () => {
    await s.call('PUT', '/api/v1/people/ana@example.com', { body: {} });
    await s.call('PUT', '/api/v1/people/bo@example.com', { body: {} });
    const added = await s.call('PUT', '/api/v1/people/ana@example.com/cards/00FF', { body: { format: 'hex-msb' } });
    expect(added.status).toBe(201);
    expect((await read(added)).cards).toEqual([{ number: '255', format: 'hex-msb', state: 'active', validFrom: null, validTo: null }]);
    const person = await read(await s.call('GET', '/api/v1/people/ana@example.com'));
    expect(person.pending).toBe(false);
    const again = await s.call('PUT', '/api/v1/people/ana@example.com/cards/ff', { body: { format: 'hex-msb' } });
    expect(again.status).toBe(200);
    const before = tableHashes(s.store.db);
    const stolen = await s.call('PUT', '/api/v1/people/bo@example.com/cards/255', { body: {} });
    expect(stolen.status).toBe(409);
    const refusal = await read(stolen);
    expect(refusal.error).toMatchObject({ code: 'card_conflict', field: 'path.card' });
    expect(JSON.stringify(refusal)).not.toContain('255');
    expect(tableHashes(s.store.db)).toEqual(before);
    const lost = await read(await s.call('PUT', '/api/v1/people/ana@example.com/cards/255', { body: { state: 'lost' } }));
    expect(lost.cards).toMatchObject([{ number: '255', state: 'lost' }]);
    expect(lost.pending).toBe(true);
    const removed = await s.call('DELETE', '/api/v1/people/ana@example.com/cards/ff?format=hex-msb');
    expect(removed.status).toBe(200);
    expect((await read(removed)).cards).toEqual([]);
    expect((await s.call('DELETE', '/api/v1/people/ana@example.com/cards/255')).status).toBe(404);
    const audit = recentChanges(s.store, 20).filter((c) => c.action.startsWith('card.'));
    expect(audit.map((c) => [c.action, c.target])).toEqual(expect.arrayContaining([['card.active', 'ana@example.com *55'], ['card.lost', 'ana@example.com *55'], ['card.delete', 'ana@example.com *55']]));
  });

  it('issues a member QR token to an active person, audited without the token; refuses a suspended or unknown one', async () => {
    await s.call('PUT', '/api/v1/people/ana@example.com', { body: {} });
    const issued = await s.call('POST', '/api/v1/people/ana@example.com/qr-tokens');
    expect(issued.status).toBe(201);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    const { token, expiresAt } = (await issued.json()) as { token: string; expiresAt: string };
    expect(token.length).toBeGreaterThan(20);
    expect(Date.parse(expiresAt)).toBe(s.clock.now() + 300_000);
    const audit = recentChanges(s.store, 5).find((c) => c.action === 'qr.issue')!;
    expect([audit.actor, audit.target]).toEqual(['api:t-write', 'ana@example.com']);
    expect(JSON.stringify(audit)).not.toContain(token);
    expect((await s.call('POST', '/api/v1/people/ana@example.com/qr-tokens', { token: s.tokens.read })).status).toBe(403);
    await s.call('PUT', '/api/v1/people/ana@example.com', { body: { state: 'suspended' } });
    const refused = await s.call('POST', '/api/v1/people/ana@example.com/qr-tokens');
    expect([refused.status, (await read(refused)).error?.code]).toEqual([409, 'person_suspended']);
    expect((await s.call('POST', '/api/v1/people/nobody@example.com/qr-tokens')).status).toBe(404);
  });

  it('lists by email with a cursor, filtered by group and state, no row ids', async () => {
    for (const name of ['d', 'a', 'c', 'b', 'e']) await s.call('PUT', `/api/v1/people/${name}@example.com`, { body: { groups: name < 'c' ? ['lab'] : [] } });
    await s.call('PUT', '/api/v1/people/a@example.com/cards/1', { body: {} });
    const page1 = await read(await s.call('GET', '/api/v1/people?limit=2', { token: s.tokens.read }));
    expect((page1.items as { email: string }[]).map((p) => p.email)).toEqual(['a@example.com', 'b@example.com']);
    const page2 = await read(await s.call('GET', `/api/v1/people?limit=2&cursor=${String(page1.next)}`, { token: s.tokens.read }));
    expect((page2.items as { email: string }[]).map((p) => p.email)).toEqual(['c@example.com', 'd@example.com']);
    const last = await read(await s.call('GET', `/api/v1/people?limit=2&cursor=${String(page2.next)}`, { token: s.tokens.read }));
    expect(last.next).toBeNull();
    const lab = await read(await s.call('GET', '/api/v1/people?group=lab&state=pending'));
    expect((lab.items as { email: string }[]).map((p) => p.email)).toEqual(['b@example.com']);
    expect(JSON.stringify([page1, page2, last])).not.toMatch(/"id"/);
    const bad = await s.call('GET', '/api/v1/people?cursor=nope');
    expect(bad.status).toBe(400);
    expect((await read(bad)).error).toMatchObject({ code: 'invalid_cursor', field: 'query.cursor' });
  });
});
