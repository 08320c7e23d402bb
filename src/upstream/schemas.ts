import { z } from 'zod';
import { isValidDate, isValidTimeZone } from './tz-dates.js';

/*
 * The upstream contract (shared/spec/upstream-api.md) as zod schemas: the client validates every
 * response with them, the webhook every callback body, the simulator every request. A body that
 * does not match is rejected whole, never partially applied.
 */

export const opaqueId = z.string().min(1).max(128);
/** RFC 3339 with an offset (or Z); the offset is what makes the instant exact. */
export const rfc3339 = z.iso.datetime({ offset: true });
export const localDate = z.string().refine(isValidDate, 'expected a date YYYY-MM-DD');
export const timeZone = z.string().min(1).max(64).refine(isValidTimeZone, 'unknown IANA time zone');
const email = z.string().min(3).max(254).regex(/^[^\s@]+@[^\s@]+$/, 'expected an email address');

export const informationSchema = z.object({ name: z.string(), version: z.string() });
export type Information = z.infer<typeof informationSchema>;

export const RESOURCE_TYPES = ['room', 'desk', 'office', 'parking', 'equipment'] as const;
export const resourceSchema = z.object({
  resourceId: opaqueId,
  name: z.string(),
  type: z.enum(RESOURCE_TYPES),
  locationId: z.string(),
});
export const resourcesSchema = z.object({ resources: z.array(resourceSchema) });
export type UpstreamResource = z.infer<typeof resourceSchema>;

/** Base64 after `whsec_`, 24 to 64 bytes, canonical encoding. */
export function isValidWebhookSecret(secret: string): boolean {
  if (!secret.startsWith('whsec_')) return false;
  const b64 = secret.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const bytes = Buffer.from(b64, 'base64');
  return bytes.length >= 24 && bytes.length <= 64 && bytes.toString('base64') === b64;
}

export const createSubscriptionRequestSchema = z.object({
  callUrl: z.url(),
  resourceIds: z.array(opaqueId).min(1),
  secret: z.string().refine(isValidWebhookSecret, 'secret must be whsec_ + base64 of 24 to 64 bytes'),
});
export const createSubscriptionResponseSchema = z.object({ subscriptionId: opaqueId, expiresAt: rfc3339 });

/*
 * The callback carries no data the gateway applies: it only says which lists to fetch again.
 * So a type this version does not know is still a valid reason to refresh (refusing it would
 * have the platform retry for 24 h), and `dates` is bounded only by the body cap.
 */
export const callbackSchema = z.object({
  subscriptionId: opaqueId,
  type: z.string().min(1).max(64),
  resourceId: opaqueId,
  appointmentId: opaqueId,
  dates: z.array(localDate).min(1).max(1000),
  occurredAt: rfc3339,
});
export type CallbackBody = z.infer<typeof callbackSchema>;

/*
 * A participant the gateway cannot use (no valid email) is dropped alone: that person simply
 * gets no grant (fail closed), while the rest of the list — cancellations included — still
 * applies. Refusing the whole list would leave stale grants in place. Names are display only.
 */
const person = z.object({
  email,
  name: z
    .string()
    .nullish()
    .transform((n) => (n == null ? undefined : n.slice(0, 256))),
});
const usablePerson = person.nullable().catch(null);
export const appointmentSchema = z.object({
  appointmentId: opaqueId,
  status: z.enum(['confirmed', 'cancelled']),
  start: rfc3339,
  end: rfc3339,
  organizer: usablePerson,
  // The spec shows `attendees` but does not say it is always present: absent means none.
  attendees: z
    .array(usablePerson)
    .max(10_000)
    .default([])
    .transform((list) => list.filter((p) => p !== null)),
  updatedAt: rfc3339,
});
export type UpstreamAppointment = z.infer<typeof appointmentSchema>;
/** An appointment as the platform sends it (before parsing): what the simulator serves. */
export type UpstreamAppointmentWire = z.input<typeof appointmentSchema>;

export const dailyListSchema = z
  .object({
    resourceId: opaqueId,
    date: localDate,
    timeZone,
    appointments: z.array(appointmentSchema),
  })
  .superRefine((list, ctx) => {
    list.appointments.forEach((a, i) => {
      if (Date.parse(a.end) < Date.parse(a.start)) {
        ctx.addIssue({ code: 'custom', path: ['appointments', i, 'end'], message: 'end before start' });
      }
    });
  });
export type DailyList = z.infer<typeof dailyListSchema>;

export const verifyVisitRequestSchema = z.object({ registrationCode: z.string().min(1).max(256), deviceId: z.string().min(1).max(128) });
export const VISIT_STATUSES = ['expected', 'checked_in', 'checked_out', 'cancelled'] as const;
export const visitSchema = z.object({
  visitId: opaqueId,
  visitor: z.object({ name: z.string(), email: email.optional(), company: z.string().optional() }),
  host: z.object({ name: z.string(), email: email.optional() }),
  status: z.enum(VISIT_STATUSES),
  validFrom: rfc3339,
  validTo: rfc3339,
});
export type UpstreamVisit = z.infer<typeof visitSchema>;
