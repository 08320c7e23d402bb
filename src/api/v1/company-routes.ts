import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { BlankEnv } from 'hono/types';
import { getCompany, type CompanyView } from '../../store/company-admin.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { requireScope } from './actor.js';
import type { Writes } from './write-ops.js';
import { errorResponses } from './error-responses.js';
import { ApiError } from './errors.js';
import { Email, NaturalId } from './schemas.js';

/*
 * Companies and their members (store/company-admin.ts). Joining gives the member the company's
 * subscriptions at once, leaving takes them away; a person who joins before they exist is
 * created, pending until a card arrives.
 */

const CompanyParam = z.object({ companyId: NaturalId.openapi({ param: { name: 'companyId', in: 'path' } }) });
const MemberParam = CompanyParam.extend({ email: Email.openapi({ param: { name: 'email', in: 'path' } }) });
const CompanyPut = z.object({ name: z.string().trim().min(1).max(200).nullable().default(null) }).strict().openapi('CompanyPut');
const MemberPut = z.object({ name: z.string().trim().min(1).max(200).optional().openapi({ description: 'The name of a person created by this join' }) }).strict().openapi('MemberPut');
const Company = z.object({ id: z.string(), name: z.string().nullable(), members: z.array(z.string()), createdAt: z.string(), updatedAt: z.string() }).openapi('Company');

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const body = <T>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
const common = { tags: ['companies'], security: [{ bearer: [] }] };

const putRoute = createRoute({ ...common, method: 'put', path: '/companies/{companyId}', summary: 'Create or rename a company', request: { params: CompanyParam, ...body(CompanyPut) }, responses: { ...errorResponses, 200: json(Company, 'Updated, or already so'), 201: json(Company, 'Created') } });
const getRoute = createRoute({ ...common, method: 'get', path: '/companies/{companyId}', summary: 'A company with its member emails', request: { params: CompanyParam }, responses: { ...errorResponses, 200: json(Company, 'The company') } });
const deleteRoute = createRoute({ ...common, method: 'delete', path: '/companies/{companyId}', summary: 'Delete a company: members stay, without its subscriptions', request: { params: CompanyParam }, responses: { ...errorResponses, 204: { description: 'Deleted' } } });
const joinRoute = createRoute({ ...common, method: 'put', path: '/companies/{companyId}/members/{email}', summary: "Make the person a member (leaving any other company); the company's subscriptions apply at once", request: { params: MemberParam, ...body(MemberPut) }, responses: { ...errorResponses, 200: json(Company, 'Joined, or already a member') } });
const leaveRoute = createRoute({ ...common, method: 'delete', path: '/companies/{companyId}/members/{email}', summary: "Remove the member: the company's subscriptions stop for them at once", request: { params: MemberParam }, responses: { ...errorResponses, 204: { description: 'Left' } } });

const wire = (c: CompanyView) => ({ ...c, createdAt: new Date(c.createdAt).toISOString(), updatedAt: new Date(c.updatedAt).toISOString() });

export function mountCompanyRoutes(app: OpenAPIHono<BlankEnv>, deps: { store: Store; clock: Clock; writes: Writes }): void {
  const unknown = () => new ApiError(404, 'unknown_company', 'no company with that id', 'path.companyId');

  app.openapi(putRoute, async (c) => {
    const actor = requireScope(c, 'write').name;
    const out = await deps.writes.putCompany(c.req.valid('param').companyId, c.req.valid('json'), actor, deps.clock.now());
    return out.created ? c.json(wire(out.company), 201) : c.json(wire(out.company), 200);
  });
  app.openapi(getRoute, (c) => {
    requireScope(c, 'read');
    const found = getCompany(deps.store, c.req.valid('param').companyId);
    if (found === undefined) throw unknown();
    return c.json(wire(found), 200);
  });
  app.openapi(deleteRoute, async (c) => {
    const actor = requireScope(c, 'write').name;
    if (!(await deps.writes.deleteCompany(c.req.valid('param').companyId, actor, deps.clock.now())).changed) throw unknown();
    return c.body(null, 204);
  });
  app.openapi(joinRoute, async (c) => {
    const actor = requireScope(c, 'write').name;
    const { companyId, email } = c.req.valid('param');
    const { name } = c.req.valid('json');
    await deps.writes.joinCompany(companyId, email, name === undefined ? {} : { name }, actor, deps.clock.now());
    return c.json(wire(getCompany(deps.store, companyId)!), 200);
  });
  app.openapi(leaveRoute, async (c) => {
    const actor = requireScope(c, 'write').name;
    const { companyId, email } = c.req.valid('param');
    if (!(await deps.writes.leaveCompany(companyId, email, actor, deps.clock.now())).changed) throw new ApiError(404, 'not_a_member', 'that person is not a member of this company', 'path.email');
    return c.body(null, 204);
  });
}
