import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recentChanges } from '../../../src/store/change-audit.js';
import { tableHashes, v1Site, type V1Site } from '../../helpers/v1-api.js';

/*
 * POST /api/v1/people:bulk through app.request(), applied by the real worker on its own
 * connection: NDJSON and JSON arrays, all or nothing, every refused line named.
 */

type Refusal = { error: { code: string }; lines: { line: number; code: string; field?: string }[]; total: number };

describe('/api/v1/people:bulk', () => {
  let s: V1Site;
  beforeEach(() => {
    s = v1Site();
  });
  afterEach(() => s.close());

  const post = (body: string, type = 'application/x-ndjson', token?: string) =>
    s.app.request('/api/v1/people:bulk', { method: 'POST', headers: { authorization: `Bearer ${token ?? s.tokens.write}`, 'content-type': type }, body });
  const ndjson = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n');

  it('applies NDJSON people with cards and groups in one go, and a repeat changes nothing', async () => {
    const body = ndjson(
      { email: 'Ana@example.com', name: 'Ana', groups: ['staff'], cards: [{ number: '1001' }, { number: '12:3456', format: 'wiegand26' }] },
      { email: 'bo@example.com', state: 'suspended', cards: [{ number: '2002', state: 'lost' }] },
      { email: 'cy@example.com' },
    );
    const res = await post(`${body}\n\n`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ people: 3, created: 3, changed: 0, cards: 3 });
    const ana = (await (await s.call('GET', '/api/v1/people/ana@example.com')).json()) as { groups: unknown[]; cards: { number: string }[] };
    expect(ana.cards.map((c) => c.number)).toEqual(['1001', '789888']);
    expect(ana.groups).toEqual([{ group: 'staff', validFrom: null, validTo: null }]);
    const before = tableHashes(s.store.db);
    const again = await post(body);
    expect(await again.json()).toEqual({ people: 3, created: 0, changed: 0, cards: 3 });
    expect(tableHashes(s.store.db)).toEqual(before);
  });

  it('creates new people exactly as one PUT each would: the same people, cards, groups and audit rows', async () => {
    const records = [
      { email: 'a@example.com', name: 'A', state: 'suspended', groups: [{ group: 'lab', validFrom: '2026-12-01T00:00:00Z', validTo: null }], cards: [{ number: '11', state: 'lost' }] },
      { email: 'b@example.com', validFrom: '2026-12-01T00:00:00Z', validTo: '2027-01-01T00:00:00Z', groups: ['staff', 'lab'], cards: [{ number: '22', validTo: '2026-12-24T00:00:00Z' }, { number: '33' }] },
    ];
    expect((await post(ndjson(...records))).status).toBe(200);
    const one = v1Site();
    try {
      for (const { email, cards, ...person } of records) {
        await one.call('PUT', `/api/v1/people/${email}`, { body: person });
        for (const { number, ...card } of cards) await one.call('PUT', `/api/v1/people/${email}/cards/${number}`, { body: card });
      }
      for (const { email } of records) {
        expect(await (await s.call('GET', `/api/v1/people/${email}`)).json()).toEqual(await (await one.call('GET', `/api/v1/people/${email}`)).json());
      }
      const audit = (site: V1Site) => recentChanges(site.store, 50).filter((c) => c.action !== 'token.create').map((c) => [c.action, c.target, c.detail]).sort();
      expect(audit(s)).toEqual(audit(one));
    } finally {
      one.close();
    }
  });

  it('takes a JSON array too', async () => {
    const res = await post(JSON.stringify([{ email: 'a@example.com' }, { email: 'b@example.com', cards: [{ number: 'ff', format: 'hex-msb' }] }]), 'application/json');
    expect(await res.json()).toEqual({ people: 2, created: 2, changed: 0, cards: 1 });
  });

  it('refuses the whole bulk, naming each bad line, and writes nothing', async () => {
    await s.call('PUT', '/api/v1/people/owner@example.com', { body: {} });
    await s.call('PUT', '/api/v1/people/owner@example.com/cards/5005', { body: {} });
    const before = tableHashes(s.store.db);
    const body = [
      JSON.stringify({ email: 'ok@example.com', cards: [{ number: '7007' }] }),
      '{"email": ',
      JSON.stringify({ email: 'not-an-email' }),
      JSON.stringify({ email: 'g@example.com', groups: ['vault'] }),
      JSON.stringify({ email: 'ok@example.com' }),
      JSON.stringify({ email: 'c@example.com', cards: [{ number: '12x' }] }),
    ].join('\n');
    const res = await post(body);
    expect(res.status).toBe(422);
    const refusal = (await res.json()) as Refusal;
    expect(refusal.error.code).toBe('bulk_refused');
    expect(refusal.lines.map((l) => [l.line, l.code])).toEqual([
      [2, 'invalid_json'],
      [3, 'invalid_request'],
      [6, 'invalid_card'],
      [4, 'unknown_group'],
      [5, 'duplicate_email'],
    ]);
    expect(refusal.total).toBe(5);
    expect(tableHashes(s.store.db)).toEqual(before);

    // A card held by someone else is found only against the stored data: the transaction rolls back.
    const stolen = await post(ndjson({ email: 'new@example.com', cards: [{ number: '8008' }] }, { email: 'thief@example.com', cards: [{ number: '5005' }] }));
    expect(stolen.status).toBe(422);
    expect(((await stolen.json()) as Refusal).lines).toEqual([{ line: 2, code: 'card_conflict', field: 'cards', message: expect.any(String) as string }]);
    expect(tableHashes(s.store.db)).toEqual(before);
  });

  it('needs a write token and a declared body type', async () => {
    expect((await post(ndjson({ email: 'a@example.com' }), 'application/x-ndjson', s.tokens.read)).status).toBe(403);
    expect((await post(ndjson({ email: 'a@example.com' }), 'text/plain')).status).toBe(415);
    expect((await s.call('GET', '/api/v1/people/a@example.com')).status).toBe(404);
  });
});
