import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { BlankEnv } from 'hono/types';
import { normalizeImportedCard } from '../../readers/card-formats.js';
import { getPerson, type ChangeContext } from '../../store/people-admin.js';
import { listPeople } from '../../store/people-list.js';
import type { IssuedToken } from '../../qr/issuer.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { requireScope } from './actor.js';
import type { Writes } from './write-ops.js';
import { ApiError } from './errors.js';
import { errorResponses } from './error-responses.js';
import { cardInput, CardFormatQuery, CardParam, CardPut, EmailParam, IfMatchHeader, PeoplePage, PeopleQuery, Person, PersonPut, personInput, QrToken } from './schemas.js';

export interface PeopleRouteDeps {
  store: Store;
  clock: Clock;
  /** The access groups of the running configuration (a reload may change them). */
  knownGroups: () => ReadonlySet<string>;
  /** Where writes go: the API thread's batcher in the gateway (thread-app.ts), direct calls in tests. */
  writes: Writes;
  /** Issues a member QR token (src/qr/issuer.ts, the gateway's key); without it the route is not mounted. */
  issueQr?: (email: string) => IssuedToken;
}

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const body = <T>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
const security = [{ bearer: [] }];
const tags = ['people'];

const listRoute = createRoute({ method: 'get', path: '/people', summary: 'List people by email, filtered, with a cursor', tags, security, request: { query: PeopleQuery }, responses: { 200: json(PeoplePage, 'A page of people, by email'), ...errorResponses } });
const getRoute = createRoute({ method: 'get', path: '/people/{email}', summary: 'One person with cards and groups', tags, security, request: { params: EmailParam }, responses: { 200: json(Person, 'The person (ETag: their version)'), ...errorResponses } });
const putRoute = createRoute({
  method: 'put',
  path: '/people/{email}',
  summary: 'Create or update a person (idempotent)',
  tags,
  security,
  request: { params: EmailParam, headers: IfMatchHeader, ...body(PersonPut) },
  responses: { 200: json(Person, 'Updated, or already so (a retry writes nothing)'), 201: json(Person, 'Created'), ...errorResponses },
});
const deleteRoute = createRoute({
  method: 'delete',
  path: '/people/{email}',
  summary: 'Delete a person with their cards',
  tags,
  security,
  request: { params: EmailParam, headers: IfMatchHeader },
  responses: { 204: { description: 'Deleted with their cards and memberships' }, ...errorResponses },
});
const putCardRoute = createRoute({
  method: 'put',
  path: '/people/{email}/cards/{card}',
  summary: 'Give the person a card, or set its state (active, disabled, lost)',
  tags,
  security,
  request: { params: CardParam, headers: IfMatchHeader, ...body(CardPut) },
  responses: { 200: json(Person, 'The holder, with the card as asked'), 201: json(Person, 'The holder, with the new card'), ...errorResponses },
});
const deleteCardRoute = createRoute({
  method: 'delete',
  path: '/people/{email}/cards/{card}',
  summary: 'Take a card away',
  tags,
  security,
  request: { params: CardParam, headers: IfMatchHeader, query: CardFormatQuery },
  responses: { 200: json(Person, 'The holder, without the card'), ...errorResponses },
});

const qrRoute = createRoute({
  method: 'post',
  path: '/people/{email}/qr-tokens',
  summary: 'Issue a member QR token (a mobile credential) for the platform to show or email',
  tags,
  security,
  request: { params: EmailParam },
  responses: { ...errorResponses, 201: json(QrToken, 'Issued; shown once, never stored') },
});

/** The strong ETags of an If-Match header, unquoted; weak ones can never match a write. */
export function parseIfMatch(header: string | undefined): string[] | undefined {
  if (header === undefined) return undefined;
  return header
    .split(',')
    .map((t) => t.trim())
    .flatMap((t) => (t === '*' ? ['*'] : /^"[^"]*"$/.test(t) ? [t.slice(1, -1)] : []));
}

const etag = (version: string) => `"${version}"`;

export function mountPeopleRoutes(app: OpenAPIHono<BlankEnv>, deps: PeopleRouteDeps): void {
  const change = (c: Context, ifMatch: string | undefined): ChangeContext => ({
    actor: requireScope(c, 'write').name,
    now: deps.clock.now(),
    ...(ifMatch === undefined ? {} : { ifMatch: parseIfMatch(ifMatch)! }),
  });
  const canonicalCard = (card: string, format: Parameters<typeof normalizeImportedCard>[1]): string => {
    const read = normalizeImportedCard(card, format);
    if (!read.ok) throw new ApiError(400, 'invalid_card', `not a valid ${format} card number (${read.reason})`, 'path.card');
    return read.number;
  };

  app.openapi(listRoute, (c) => {
    requireScope(c, 'read');
    const q = c.req.valid('query');
    const filter = { ...(q.email === undefined ? {} : { email: q.email }), ...(q.group === undefined ? {} : { group: q.group }), ...(q.company === undefined ? {} : { company: q.company }), ...(q.state === undefined ? {} : { state: q.state }) };
    return c.json(listPeople(deps.store, filter, q.cursor, q.limit), 200);
  });

  app.openapi(getRoute, (c) => {
    requireScope(c, 'read');
    const found = getPerson(deps.store, c.req.valid('param').email);
    if (found === undefined) throw new ApiError(404, 'unknown_person', 'no person with that email');
    c.header('etag', etag(found.version));
    return c.json(found.person, 200);
  });

  app.openapi(putRoute, async (c) => {
    const ctx = change(c, c.req.valid('header')['if-match']);
    const out = await deps.writes.putPerson(c.req.valid('param').email, personInput(c.req.valid('json')), ctx, deps.knownGroups());
    c.header('etag', etag(out.version));
    return out.created ? c.json(out.person, 201) : c.json(out.person, 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const ctx = change(c, c.req.valid('header')['if-match']);
    if (!(await deps.writes.deletePerson(c.req.valid('param').email, ctx))) throw new ApiError(404, 'unknown_person', 'no person with that email');
    return c.body(null, 204);
  });

  app.openapi(putCardRoute, async (c) => {
    const ctx = change(c, c.req.valid('header')['if-match']);
    const { email, card } = c.req.valid('param');
    const b = c.req.valid('json');
    const out = await deps.writes.putCard(email, canonicalCard(card, b.format), cardInput(b), ctx);
    c.header('etag', etag(out.version));
    return out.created ? c.json(out.person, 201) : c.json(out.person, 200);
  });

  const issueQr = deps.issueQr;
  if (issueQr) {
    app.openapi(qrRoute, async (c) => {
      const ctx = change(c, undefined);
      const email = c.req.valid('param').email;
      const issued = issueQr(email);
      // Audited without the token: who was given a credential, by whom, until when.
      await deps.writes.audit({ at: ctx.now, actor: ctx.actor, action: 'qr.issue', target: email.toLowerCase(), detail: { expiresAt: issued.expiresAt } });
      c.header('cache-control', 'no-store');
      return c.json({ token: issued.token, expiresAt: new Date(issued.expiresAt).toISOString() }, 201);
    });
  }

  app.openapi(deleteCardRoute, async (c) => {
    const ctx = change(c, c.req.valid('header')['if-match']);
    const { email, card } = c.req.valid('param');
    const out = await deps.writes.deleteCard(email, canonicalCard(card, c.req.valid('query').format), ctx);
    c.header('etag', etag(out.version));
    return c.json(out.person, 200);
  });
}
