import { z } from '@hono/zod-openapi';
import { CARD_FORMATS } from '../../config/schema.js';
import type { CardInput, PersonInput } from '../../store/people-admin.js';

/*
 * The wire shapes of /api/v1, one zod schema each: the routes validate with them and the
 * OpenAPI document is generated from them, so the document cannot drift from what is enforced.
 * Request bodies are strict: a misspelt field ("group" for "groups") is a 400, not a silent no-op.
 */

const Instant = z.iso.datetime({ offset: true }).nullable().openapi({ example: '2026-12-01T08:00:00Z', description: 'ISO 8601 with offset; null = open' });
const OptionalInstant = Instant.default(null);

/** A platform's own id (company, subscription, booking): printable, no surrounding spaces. */
export const NaturalId = z.string().min(1).max(100).regex(/^\S(.*\S)?$/, 'no leading or trailing spaces');

export const Email = z.email().max(254).openapi({ example: 'ana@example.com' });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_request', description: 'Stable: clients branch on it.' }),
      message: z.string(),
      field: z.string().optional().openapi({ example: 'body.validTo', description: 'The failing input: body.*, path.*, query.*, header.*' }),
    }),
  })
  .openapi('Error');

const GroupInput = z.union([
  z.string().min(1).max(100),
  z.object({ group: z.string().min(1).max(100), validFrom: OptionalInstant, validTo: OptionalInstant }).strict(),
]);

export const PersonPut = z
  .object({
    name: z.string().trim().min(1).max(200).nullable().default(null),
    state: z.enum(['active', 'suspended']).default('active'),
    validFrom: OptionalInstant,
    validTo: OptionalInstant,
    groups: z.array(GroupInput).max(200).default([]).openapi({ description: "The person's standing access groups (replaced as a whole); a group id or { group, validFrom, validTo }." }),
  })
  .strict()
  .openapi('PersonPut');

export const CardPut = z
  .object({
    format: z.enum(CARD_FORMATS).default('decimal').openapi({ description: 'How the number in the path is written; stored canonical.' }),
    state: z.enum(['active', 'disabled', 'lost']).default('active'),
    validFrom: OptionalInstant,
    validTo: OptionalInstant,
  })
  .strict()
  .openapi('CardPut');

const Group = z.object({ group: z.string(), validFrom: Instant, validTo: Instant });

export const Card = z
  .object({ number: z.string(), format: z.string(), state: z.enum(['active', 'disabled', 'lost']), validFrom: Instant, validTo: Instant })
  .openapi('Card');

export const Person = z
  .object({
    email: z.string(),
    name: z.string().nullable(),
    state: z.enum(['active', 'suspended']),
    company: z.string().nullable(),
    pending: z.boolean().openapi({ description: 'No active card yet: access begins the moment one arrives.' }),
    validFrom: Instant,
    validTo: Instant,
    groups: z.array(Group),
    subscriptionGroups: z.array(Group.extend({ subscription: z.string() })),
    cards: z.array(Card),
  })
  .openapi('Person');

export const QrToken = z.object({ token: z.string(), expiresAt: z.string() }).openapi('QrToken');

export const PeoplePage = z.object({ items: z.array(Person), next: z.string().nullable() }).openapi('PeoplePage');

export const PeopleQuery = z.object({
  email: z.string().max(254).optional().openapi({ description: 'Part of the email, any case.' }),
  group: z.string().max(100).optional(),
  company: z.string().max(100).optional(),
  state: z.enum(['active', 'suspended', 'pending']).optional(),
  cursor: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const EmailParam = z.object({ email: Email.openapi({ param: { name: 'email', in: 'path' } }) });
export const CardParam = z.object({
  email: Email.openapi({ param: { name: 'email', in: 'path' } }),
  card: z.string().min(1).max(64).openapi({ param: { name: 'card', in: 'path' }, example: '12345678' }),
});

/** A card named in a path by its canonical number (as GET shows it), or in another format's spelling. */
export const CardFormatQuery = z.object({ format: z.enum(CARD_FORMATS).default('decimal') });

export const IfMatchHeader = z.object({
  'if-match': z.string().max(1000).optional().openapi({ description: 'Apply only if the stored version is one of these ETags.' }),
});

/** Milliseconds of an accepted Instant (null stays null). */
export function ms(value: string | null): number | null {
  return value === null ? null : Date.parse(value);
}

/** A validated PersonPut as the use cases take it (people-admin.ts): instants in ms, every group in its long form. */
export function personInput(b: z.output<typeof PersonPut>): PersonInput {
  const groups = b.groups.map((g) => (typeof g === 'string' ? { group: g, validFrom: null, validTo: null } : { group: g.group, validFrom: ms(g.validFrom), validTo: ms(g.validTo) }));
  return { name: b.name, state: b.state, validFrom: ms(b.validFrom), validTo: ms(b.validTo), groups };
}

/** A validated CardPut as the use cases take it. */
export function cardInput(b: z.output<typeof CardPut>): CardInput {
  return { format: b.format, state: b.state, validFrom: ms(b.validFrom), validTo: ms(b.validTo) };
}
