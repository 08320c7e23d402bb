import { iso } from '../../store/person-view.js';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { BlankEnv } from 'hono/types';
import type { Store } from '../../store/store.js';
import { getSubscription, listSubscriptions, type SubscriptionView } from '../../store/subscription-admin.js';
import type { Clock } from '../../util/clock.js';
import { requireScope } from './actor.js';
import type { Writes } from './write-ops.js';
import { errorResponses } from './error-responses.js';
import { ApiError } from './errors.js';
import { checkSubscriptionLocation, type LocationsOf } from './location-gate.js';
import { Email, ms, NaturalId } from './schemas.js';

/*
 * Plan subscriptions (store/subscription-admin.ts): a person or a whole company gets access
 * groups from startsAt until endsAt or cancelledAt, whichever is first. Payment status is not
 * an input: it never decides access. Scheduling an end or cancelling is a PUT with that field;
 * editing the plan elsewhere changes nothing here, editing the subscription does.
 */

const Instant = z.iso.datetime({ offset: true });
const SubParam = z.object({ subscriptionId: NaturalId.openapi({ param: { name: 'subscriptionId', in: 'path' } }) });

const SubscriptionPut = z
  .object({
    email: Email.optional().openapi({ description: 'The subscriber, when a person (created if unknown); exactly one of email and companyId' }),
    name: z.string().trim().min(1).max(200).optional().openapi({ description: 'Name of a person created by this subscription' }),
    companyId: NaturalId.optional().openapi({ description: 'The subscriber, when a company: every member gets the groups' }),
    groups: z.array(z.string().min(1).max(100)).min(1).max(100),
    startsAt: Instant,
    endsAt: Instant.nullable().default(null),
    cancelledAt: Instant.nullable().default(null).openapi({ description: 'Access ends at this instant (it may lie ahead)' }),
    location: NaturalId.optional().openapi({ description: 'The location (config locations[].id) the plan is of: refused while it is disconnected, ended when it is revoked' }),
  })
  .strict()
  .refine((b) => (b.email === undefined) !== (b.companyId === undefined), { message: 'give exactly one of email and companyId', path: ['email'] })
  .refine((b) => b.name === undefined || b.email !== undefined, { message: 'name goes with email', path: ['name'] })
  .openapi('SubscriptionPut');

const Subscription = z
  .object({
    id: z.string(),
    email: z.string().optional(),
    companyId: z.string().optional(),
    groups: z.array(z.string()),
    startsAt: z.string(),
    endsAt: z.string().nullable(),
    cancelledAt: z.string().nullable(),
    location: z.string().optional(),
  })
  .openapi('Subscription');
const SubscriptionPage = z.object({ items: z.array(Subscription), next: z.string().nullable() }).openapi('SubscriptionPage');
const ListQuery = z.object({ email: Email.optional(), companyId: NaturalId.optional(), cursor: z.string().max(1000).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const common = { tags: ['subscriptions'], security: [{ bearer: [] }] };

const putRoute = createRoute({
  ...common,
  method: 'put',
  path: '/subscriptions/{subscriptionId}',
  summary: 'Create or update a subscription (idempotent); cancel or schedule its end with cancelledAt / endsAt',
  request: { params: SubParam, body: { content: { 'application/json': { schema: SubscriptionPut } }, required: true } },
  responses: { ...errorResponses, 200: json(Subscription, 'Updated, or already so'), 201: json(Subscription, 'Created') },
});
const getRoute = createRoute({ ...common, method: 'get', path: '/subscriptions/{subscriptionId}', summary: 'One subscription', request: { params: SubParam }, responses: { ...errorResponses, 200: json(Subscription, 'The subscription') } });
const listRoute = createRoute({ ...common, method: 'get', path: '/subscriptions', summary: 'Subscriptions by id, of a person or a company, with a cursor', request: { query: ListQuery }, responses: { ...errorResponses, 200: json(SubscriptionPage, 'A page') } });
const deleteRoute = createRoute({ ...common, method: 'delete', path: '/subscriptions/{subscriptionId}', summary: 'Delete a subscription: its access goes at once', request: { params: SubParam }, responses: { ...errorResponses, 204: { description: 'Deleted' } } });

const wire = (s: SubscriptionView) => ({
  id: s.id,
  ...s.subject,
  groups: s.groups,
  startsAt: iso(s.startsAt)!,
  endsAt: iso(s.endsAt),
  cancelledAt: iso(s.cancelledAt),
  ...(s.location === undefined ? {} : { location: s.location }),
});

export function mountSubscriptionRoutes(app: OpenAPIHono<BlankEnv>, deps: { store: Store; clock: Clock; knownGroups: () => ReadonlySet<string>; writes: Writes; locations?: LocationsOf }): void {
  app.openapi(putRoute, async (c) => {
    const actor = requireScope(c, 'write').name;
    const b = c.req.valid('json');
    checkSubscriptionLocation(deps.locations, b.location);
    const subject = b.companyId !== undefined ? { companyId: b.companyId } : { email: b.email!, ...(b.name === undefined ? {} : { name: b.name }) };
    const input = { subject, groups: b.groups, startsAt: ms(b.startsAt)!, endsAt: ms(b.endsAt), cancelledAt: ms(b.cancelledAt), location: b.location ?? null };
    const out = await deps.writes.putSubscription(c.req.valid('param').subscriptionId, input, actor, deps.clock.now(), deps.knownGroups());
    return out.created ? c.json(wire(out.subscription), 201) : c.json(wire(out.subscription), 200);
  });
  app.openapi(getRoute, (c) => {
    requireScope(c, 'read');
    const found = getSubscription(deps.store, c.req.valid('param').subscriptionId);
    if (found === undefined) throw new ApiError(404, 'unknown_subscription', 'no subscription with that id', 'path.subscriptionId');
    return c.json(wire(found), 200);
  });
  app.openapi(listRoute, (c) => {
    requireScope(c, 'read');
    const q = c.req.valid('query');
    const page = listSubscriptions(deps.store, { limit: q.limit, ...(q.email === undefined ? {} : { email: q.email }), ...(q.companyId === undefined ? {} : { companyId: q.companyId }), ...(q.cursor === undefined ? {} : { cursor: q.cursor }) });
    return c.json({ items: page.subscriptions.map(wire), next: page.nextCursor }, 200);
  });
  app.openapi(deleteRoute, async (c) => {
    const actor = requireScope(c, 'write').name;
    if (!(await deps.writes.deleteSubscription(c.req.valid('param').subscriptionId, actor, deps.clock.now())).changed) {
      throw new ApiError(404, 'unknown_subscription', 'no subscription with that id', 'path.subscriptionId');
    }
    return c.body(null, 204);
  });
}
