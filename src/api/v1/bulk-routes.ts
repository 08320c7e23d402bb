import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { BlankEnv } from 'hono/types';
import type { BulkReply } from './bulk-runner.js';
import { BulkPerson, MAX_BULK_RECORDS } from './bulk-parse.js';
import { requireScope } from './actor.js';
import { errorResponses } from './error-responses.js';
import { ApiError } from './errors.js';
import { ErrorSchema } from './schemas.js';

/*
 * POST /api/v1/people:bulk — NDJSON or a JSON array of up to 100,000 people with their cards,
 * applied in one transaction, all or nothing, off the main thread (bulk-runner.ts). A refusal
 * lists the failing lines (the first 100) and writes nothing.
 */

export const BULK_PATH = '/api/v1/people:bulk';
/** 100,000 people with two cards and groups is ~25 MB of NDJSON; the general cap (64 KiB) would refuse it. */
export const MAX_BULK_BYTES = 64 * 1024 * 1024;

export type BulkApply = (body: ArrayBuffer, ndjson: boolean, actor: string) => Promise<BulkReply>;

const Summary = z.object({ people: z.number().int(), created: z.number().int(), changed: z.number().int(), cards: z.number().int() }).openapi('BulkSummary');
const Refusal = ErrorSchema.extend({
  lines: z.array(z.object({ line: z.number().int(), code: z.string(), field: z.string().optional(), message: z.string() })),
  total: z.number().int().openapi({ description: 'How many lines were refused (lines lists the first 100).' }),
}).openapi('BulkRefusal');

const BULK_REF = { $ref: '#/components/schemas/BulkPerson' };

const bulkRoute = createRoute({
  method: 'post',
  // A colon inside a segment is literal to Hono (a parameter starts a segment): this is the path as written.
  path: '/people:bulk',
  summary: `Create or update up to ${MAX_BULK_RECORDS} people with their cards in one transaction (all or nothing)`,
  tags: ['people'],
  security: [{ bearer: [] }],
  request: {
    // Plain JSON Schema, not zod: documented here, validated line by line in the worker, never parsed on the main thread.
    body: { required: true, content: { 'application/x-ndjson': { schema: BULK_REF }, 'application/json': { schema: { type: 'array', items: BULK_REF, maxItems: MAX_BULK_RECORDS } } } },
  },
  responses: { ...errorResponses, 200: { content: { 'application/json': { schema: Summary } }, description: 'Applied' }, 422: { content: { 'application/json': { schema: Refusal } }, description: 'Refused lines; nothing written' } },
});

export function mountBulkRoute(app: OpenAPIHono<BlankEnv>, apply: BulkApply): void {
  app.openAPIRegistry.register('BulkPerson', BulkPerson);
  app.openapi(bulkRoute, async (c) => {
    const actor = requireScope(c, 'write');
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-ndjson' && type !== 'application/json') throw new ApiError(415, 'unsupported_media_type', 'send application/x-ndjson or a JSON array');
    const reply = await apply(await c.req.arrayBuffer(), type === 'application/x-ndjson', actor.name);
    if (reply.ok) return c.json(reply.summary, 200);
    if ('refused' in reply) {
      const { errors, total } = reply.refused;
      return c.json({ error: { code: 'bulk_refused', message: `${total} line(s) refused; nothing was written` }, lines: errors, total }, 422);
    }
    throw Object.assign(new Error(reply.error.message), reply.error.code === undefined ? {} : { code: reply.error.code });
  });
}
