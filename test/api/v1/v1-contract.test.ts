import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tableHashes, v1Site, type V1Site } from '../../helpers/v1-api.js';

/*
 * The v1 contract as a whole: the generated OpenAPI document is valid OpenAPI 3.1 and public,
 * every malformed request is refused with its code and field and the database unchanged, and
 * every route enforces its scope.
 */

type ErrorBody = { error: { code: string; field?: string; message: string } };

describe('/api/v1 contract', () => {
  let s: V1Site;
  beforeEach(async () => {
    s = v1Site();
    // Each token's first use writes last_used_at: make it before the table hashes are taken.
    for (const token of Object.values(s.tokens)) await s.call('GET', '/api/v1/people', { token });
    await s.call('PUT', '/api/v1/people/ana@example.com', { body: { name: 'Ana' } });
    await s.call('PUT', '/api/v1/people/bo@example.com', { body: {} });
    await s.call('PUT', '/api/v1/people/ana@example.com/cards/1234', { body: {} });
    await s.call('PUT', '/api/v1/companies/acme', { body: { name: 'Acme' } });
  });
  afterEach(() => s.close());

  it('serves a valid OpenAPI 3.1 document and a reference page without a token', async () => {
    const res = await s.app.request('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    const verdict = await new Validator().validate(doc as never);
    expect(verdict.errors ?? []).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/bookings',
      '/bookings/{bookingId}',
      '/companies/{companyId}',
      '/companies/{companyId}/members/{email}',
      '/people',
      '/people/{email}',
      '/people/{email}/cards/{card}',
      '/people/{email}/qr-tokens',
      '/people:bulk',
      '/subscriptions',
      '/subscriptions/{subscriptionId}',
    ]);
    const page = await s.app.request('/api/v1/reference');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('PUT</span> <code>/api/v1/people/{email}</code>');
    expect(html).not.toContain('<script');
  });

  const malformed: [string, string, string, unknown, string, string][] = [
    ['bad email in path', 'PUT', '/api/v1/people/not-an-email', {}, 'invalid_request', 'path.email'],
    ['unknown field', 'PUT', '/api/v1/people/ana@example.com', { group: ['staff'] }, 'invalid_request', 'body'],
    ['wrong type', 'PUT', '/api/v1/people/ana@example.com', { name: 42 }, 'invalid_request', 'body.name'],
    ['bad instant', 'PUT', '/api/v1/people/ana@example.com', { validFrom: 'tomorrow' }, 'invalid_request', 'body.validFrom'],
    ['end before start', 'PUT', '/api/v1/people/ana@example.com', { validFrom: '2026-12-02T00:00:00Z', validTo: '2026-12-01T00:00:00Z' }, 'bad_period', 'body.validTo'],
    ['unknown group', 'PUT', '/api/v1/people/ana@example.com', { groups: ['staff', 'vault'] }, 'unknown_group', 'body.groups'],
    ['not JSON', 'PUT', '/api/v1/people/ana@example.com', '{"name":', 'invalid_json', 'body'],
    ['bad card for its format', 'PUT', '/api/v1/people/ana@example.com/cards/12x4', {}, 'invalid_card', 'path.card'],
    ['bad card state', 'PUT', '/api/v1/people/ana@example.com/cards/99', { state: 'stolen' }, 'invalid_request', 'body.state'],
    ['card of an unknown person', 'PUT', '/api/v1/people/zed@example.com/cards/99', {}, 'unknown_person', 'path.email'],
    ['card of someone else', 'PUT', '/api/v1/people/bo@example.com/cards/1234', {}, 'card_conflict', 'path.card'],
    ['limit out of range', 'GET', '/api/v1/people?limit=100000', undefined, 'invalid_request', 'query.limit'],
    ['unknown route', 'POST', '/api/v1/doors', {}, 'unknown_route', ''],
    ['company with a spaced id', 'PUT', '/api/v1/companies/%20acme', {}, 'invalid_request', 'path.companyId'],
    ['join an unknown company', 'PUT', '/api/v1/companies/none/members/ana@example.com', {}, 'unknown_company', 'companyId'],
    ['subscription without subject', 'PUT', '/api/v1/subscriptions/s1', { groups: ['staff'], startsAt: '2026-12-01T00:00:00Z' }, 'invalid_request', 'body.email'],
    ['subscription of both', 'PUT', '/api/v1/subscriptions/s1', { email: 'ana@example.com', companyId: 'acme', groups: ['staff'], startsAt: '2026-12-01T00:00:00Z' }, 'invalid_request', 'body.email'],
    ['subscription to an unknown group', 'PUT', '/api/v1/subscriptions/s1', { email: 'ana@example.com', groups: ['vault'], startsAt: '2026-12-01T00:00:00Z' }, 'unknown_group', 'body.groups'],
    ['subscription ending before it starts', 'PUT', '/api/v1/subscriptions/s1', { email: 'ana@example.com', groups: ['staff'], startsAt: '2026-12-02T00:00:00Z', endsAt: '2026-12-01T00:00:00Z' }, 'invalid_request', 'endsAt'],
    ['subscription of an unknown company', 'PUT', '/api/v1/subscriptions/s1', { companyId: 'none', groups: ['staff'], startsAt: '2026-12-01T00:00:00Z' }, 'unknown_company', 'companyId'],
  ];
  it.each(malformed)('refuses %s with its code and field, changing nothing', async (_name, method, path, body, code, field) => {
    const before = tableHashes(s.store.db);
    const res = await s.call(method, path, { ...(body === undefined ? {} : { body }) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const refusal = (await res.json()) as ErrorBody;
    expect(refusal.error.code).toBe(code);
    if (field !== '') expect(refusal.error.field).toBe(field);
    expect(refusal.error.message.length).toBeGreaterThan(0);
    expect(tableHashes(s.store.db)).toEqual(before);
  });

  it('refuses a body that is not JSON with 415, and a GET of a missing person with 404', async () => {
    const res = await s.app.request('/api/v1/people/ana@example.com', { method: 'PUT', headers: { authorization: `Bearer ${s.tokens.write}`, 'content-type': 'text/plain' }, body: 'name=x' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as ErrorBody).error.code).toBe('unsupported_media_type');
    expect((await s.call('GET', '/api/v1/people/none@example.com')).status).toBe(404);
  });

  const routes: [string, string, 'read' | 'write', unknown][] = [
    ['GET', '/api/v1/people', 'read', undefined],
    ['GET', '/api/v1/people/ana@example.com', 'read', undefined],
    ['PUT', '/api/v1/people/ana@example.com', 'write', { name: 'Ana' }],
    ['DELETE', '/api/v1/people/bo@example.com', 'write', undefined],
    ['PUT', '/api/v1/people/ana@example.com/cards/1234', 'write', {}],
    ['DELETE', '/api/v1/people/ana@example.com/cards/1234', 'write', undefined],
    ['PUT', '/api/v1/companies/acme', 'write', { name: 'Acme' }],
    ['PUT', '/api/v1/companies/acme/members/ana@example.com', 'write', {}],
    ['PUT', '/api/v1/subscriptions/s1', 'write', { email: 'ana@example.com', groups: ['staff'], startsAt: '2026-12-01T00:00:00Z' }],
    ['GET', '/api/v1/subscriptions', 'read', undefined],
  ];
  it.each(routes)('%s %s needs a %s token: none is 401, a lower scope 403 with nothing changed', async (method, path, scope, body) => {
    const opts = body === undefined ? {} : { body };
    const before = tableHashes(s.store.db);
    const anonymous = await s.app.request(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    expect(anonymous.status).toBe(401);
    expect((await s.call(method, path, { ...opts, token: 'lt_not-a-token' })).status).toBe(401);
    if (scope === 'write') {
      const refused = await s.call(method, path, { ...opts, token: s.tokens.read });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as ErrorBody).error.code).toBe('forbidden_scope');
    }
    expect(tableHashes(s.store.db)).toEqual(before);
    for (const token of scope === 'read' ? [s.tokens.read, s.tokens.write, s.tokens.admin] : [s.tokens.admin]) {
      expect((await s.call(method, path, { ...opts, token })).status).toBeLessThan(300);
    }
  });
});
