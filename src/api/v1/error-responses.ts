import { ErrorSchema } from './schemas.js';

/** The refusals every /api/v1 route may answer, in the one error shape (errors.ts). */
const refusal = (description: string) => ({ content: { 'application/json': { schema: ErrorSchema } }, description });

export const errorResponses = {
  400: refusal('Invalid request: code and the failing field'),
  401: refusal('No API token, or an unknown or revoked one'),
  403: refusal("The token's scope does not allow this route"),
  404: refusal('No such person or card'),
  409: refusal('Conflicts with stored state: a card of someone else (card_conflict), a suspended person or one without an active card asking for a QR token'),
  412: refusal('If-Match does not name the stored version'),
  413: refusal('Body too large'),
  415: refusal('Body is not application/json'),
  422: refusal('Refers to something the gateway does not have (unknown_group)'),
  503: refusal('The database is locked by another program; retry after Retry-After seconds'),
} as const;
