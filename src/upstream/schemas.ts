import { z } from 'zod';
import { isValidDate, isValidTimeZone } from './tz-dates.js';

/*
 * The upstream contract (shared/spec/upstream-api.md) as zod schemas: the client validates every
 * response with them, the webhook every callback body, the simulator every request. A body that
 * does not match is rejected whole, never partially applied.
 */

/**
 * "Ids are opaque strings of at most 128 characters": characters, not UTF-16 code units, so an
 * id of 128 non-BMP characters (up to 256 code units) is still an id. An empty string names
 * nothing (and `DELETE …/subscriptions/` would hit the collection), so at least one.
 */
export const opaqueId = z
  .string()
  .min(1)
  .refine((s) => s.length <= 128 || [...s].length <= 128, 'expected an id of at most 128 characters');

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * RFC 3339 `date-time` (section 5.6) with its offset, parsed by hand rather than with Date.parse,
 * which accepts far more (no offset → local time, `2026-02-30` → 2 March) and is not specified for
 * the lower-case `t`/`z` that RFC 3339 allows. Returns the instant (ms, sub-millisecond digits
 * truncated) and the same time in a canonical spelling every ECMAScript Date.parse reads alike:
 * upper-case `T`/`Z`, at most three fraction digits, the offset kept as written.
 *
 * A leap second (`:60`, which RFC 3339 allows and POSIX/ECMAScript time cannot represent) is
 * clamped to `:59.999` of the same minute. Chosen over "the start of the next second" because
 * the result stays inside the minute (and so the local date and hour) the platform wrote, it is a
 * text substitution that keeps the offset (no month/year roll-over to compute), and it keeps
 * the order of instants: 23:59:59.5 < 23:59:60 → 23:59:59.999 < 00:00:00. The error is under one
 * second. `:60` is accepted only where a leap second can occur: the last minute of a UTC day.
 */
export function parseRfc3339(text: string): { ms: number; canonical: string } | null {
  const m = RFC3339_RE.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m as unknown as [string, string, string, string, string, string, string, string?, string?, string?, string?, string?];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59)) return null;
  const offsetMin = z !== undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const leap = second === 60;
  const millis = leap ? 999 : frac === undefined ? 0 : Number(frac.slice(1, 4).padEnd(3, '0'));
  const t = new Date(0);
  t.setUTCFullYear(year, month - 1, day); // not Date.UTC: it maps years 0–99 to 1900–1999
  t.setUTCHours(hour, minute, leap ? 59 : second, millis);
  const ms = t.getTime() - offsetMin * 60_000;
  if (!Number.isFinite(ms)) return null;
  if (leap) {
    const utc = new Date(ms);
    if (utc.getUTCHours() !== 23 || utc.getUTCMinutes() !== 59) return null;
  }
  const fraction = leap ? '.999' : frac === undefined ? '' : `.${frac.slice(1, 4)}`;
  const offset = z !== undefined ? 'Z' : `${sign}${oh}:${om}`;
  const canonical = `${y}-${mo}-${d}T${h}:${mi}:${leap ? '59' : s}${fraction}${offset}`;
  // Every consumer reads the instant back with Date.parse: make sure it reads this one.
  return Date.parse(canonical) === ms ? { ms, canonical } : null;
}

/**
 * RFC 3339 with an offset (or Z); the offset is what makes the instant exact. Parses to the
 * canonical spelling (see parseRfc3339), so `Date.parse` of the result is the instant.
 */
export const rfc3339 = z.string().transform((s, ctx) => {
  const parsed = parseRfc3339(s);
  if (parsed === null) {
    ctx.addIssue({ code: 'custom', message: 'expected an RFC 3339 date-time with an offset' });
    return z.NEVER;
  }
  return parsed.canonical;
});
export const localDate = z.string().refine(isValidDate, 'expected a date YYYY-MM-DD');
export const timeZone = z.string().min(1).max(64).refine(isValidTimeZone, 'unknown IANA time zone');
/** Trimmed before it is checked: " Ana@X.com " is Ana's address (compared lower-cased later). */
const email = z.string().trim().min(3).max(254).regex(/^[^\s@]+@[^\s@]+$/, 'expected an email address');
/** A field the gateway only shows or logs: kept when it is a string, otherwise ignored. */
const displayText = (max: number) =>
  z
    .string()
    .transform((v) => v.slice(0, max))
    .optional()
    .catch(undefined);

export const informationSchema = z.object({ name: z.string(), version: z.string() });
export type Information = z.infer<typeof informationSchema>;

export const RESOURCE_TYPES = ['room', 'desk', 'office', 'parking', 'equipment'] as const;
/*
 * Only `resourceId` is used (which mapped ids the platform has). The rest is informational: a
 * type outside the five the spec lists, or a missing name, must not make the whole list — and
 * with it the subscription fallback that needs it — unusable.
 */
export const resourceSchema = z.object({
  resourceId: opaqueId,
  name: displayText(256),
  type: z.enum(RESOURCE_TYPES).optional().catch(undefined),
  locationId: displayText(256),
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
 * The callback carries no data the gateway applies: it only says which lists to fetch again
 * (webhook.ts uses `subscriptionId` to pick the secret and `resourceId`, upstream-sync.ts
 * `resourceId` and `dates`). Those three are checked strictly; `type`, `appointmentId` and
 * `occurredAt` are informational only: kept when they are strings, never a reason for a 400,
 * which the platform would retry for 24 h. So a type this version does not know is still a
 * valid reason to refresh. `dates` is bounded (1000 dates, a moved booking of over a year each
 * way) and deduplicated (each is one fetch).
 */
export const callbackSchema = z.object({
  subscriptionId: opaqueId,
  type: displayText(64),
  resourceId: opaqueId,
  appointmentId: displayText(256),
  dates: z
    .array(localDate)
    .min(1)
    .max(1000)
    .transform((dates) => [...new Set(dates)]),
  occurredAt: displayText(64),
});
export type CallbackBody = z.infer<typeof callbackSchema>;

/*
 * A participant the gateway cannot use (no valid email) is dropped alone: that person simply
 * gets no grant (fail closed), while the rest of the list — cancellations included — still
 * applies. Refusing the whole list would leave stale grants in place. This holds for the
 * organizer too (null, missing or unusable → no organizer; the attendees keep their grants).
 * Names are display only: a name that is not a string never costs the person their grant.
 */
const person = z.object({
  email,
  name: displayText(256),
});
const usablePerson = person.nullable().catch(null);
/**
 * The spec knows `confirmed` and `cancelled`. Anything else (a status added later, a typo, a
 * missing one) grants nothing: it is read as `cancelled` (fail closed), so an appointment that
 * was confirmed loses its grants and the rest of the list still applies. Refusing the whole list
 * instead would keep that appointment's old grants (and every other stale grant of the day).
 */
const appointmentStatus = z.unknown().transform((s): 'confirmed' | 'cancelled' => (s === 'confirmed' ? 'confirmed' : 'cancelled'));
export const appointmentSchema = z.object({
  appointmentId: opaqueId,
  status: appointmentStatus,
  start: rfc3339,
  end: rfc3339,
  organizer: usablePerson,
  // The spec shows `attendees` but does not say it is always present: absent or null means none.
  attendees: z
    .array(usablePerson)
    .max(10_000)
    .nullish()
    .transform((list) => (list ?? []).filter((p) => p !== null)),
  /*
   * Only used to ignore an entry older than the stored one (booking-apply.ts). The spec shows it
   * but does not promise it: absent (or null) is "unknown" → null, and an entry with an unknown
   * updatedAt is applied as the latest truth — the list was just fetched; skipping it would keep
   * cancelled bookings' grants forever. A present but malformed one is still an error.
   */
  updatedAt: rfc3339.nullish().transform((t) => t ?? null),
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
/*
 * Of visitor and host only the emails are read (lower-cased, may be absent); names and company are
 * display only. An unusable email is absent, not a reason to refuse the visit.
 */
const optionalEmail = email.optional().catch(undefined);
const visitParty = z
  .object({ name: displayText(256), email: optionalEmail, company: displayText(256) })
  .catch({ name: undefined, email: undefined, company: undefined });
export const visitSchema = z.object({
  visitId: opaqueId,
  visitor: visitParty,
  host: visitParty,
  status: z.enum(VISIT_STATUSES),
  validFrom: rfc3339,
  validTo: rfc3339,
});
export type UpstreamVisit = z.infer<typeof visitSchema>;
