import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { CredentialConflictError } from '../../store/credentials-repository.js';
import { BadPeriodError, PreconditionFailedError, UnknownCardError, UnknownGroupError } from '../../store/admin-errors.js';
import { UnknownMemberError } from '../../store/member-admin.js';
import { UnknownCompanyError } from '../../store/company-admin.js';
import { UnknownSubscriptionError } from '../../store/subscription-admin.js';
import { UnknownResourceError } from '../../store/booking-admin.js';
import { InvalidInputError } from '../../store/subscription-rows.js';
import { BadCursorError } from '../../store/people-list.js';
import { QrIssueError } from '../../qr/issuer.js';
import { isSqliteBusy } from '../../store/sqlite-busy.js';
import { maskCredential } from '../../util/mask.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { ApiError } from './errors.js';

/*
 * The v1 app's one error handler: every refusal a use case throws (typed, before any write)
 * becomes its status and stable code here, so routes stay free of try/catch. Anything else is
 * logged and answered 500 without details.
 */

/** A lock held by another program (a backup, the CLI): the main thread never waits for it, so the client retries. */
const BUSY_RETRY_AFTER_S = '1';

export function apiErrorOf(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof UnknownMemberError) return new ApiError(404, 'unknown_person', err.message, 'path.email');
  if (err instanceof UnknownCardError) return new ApiError(404, err.code, err.message, 'path.card');
  if (err instanceof CredentialConflictError) return new ApiError(409, 'card_conflict', `card ${maskCredential(err.number)} already belongs to another person`, 'path.card');
  if (err instanceof PreconditionFailedError) return new ApiError(412, err.code, err.message, 'header.if-match');
  if (err instanceof UnknownGroupError) return new ApiError(422, err.code, err.message, 'body.groups');
  if (err instanceof BadPeriodError) return new ApiError(400, err.code, err.message, err.field);
  if (err instanceof QrIssueError) return new ApiError(err.code === 'unknown_person' ? 404 : 409, err.code, err.message, 'path.email');
  if (err instanceof BadCursorError) return new ApiError(400, err.code, err.message, 'query.cursor');
  if (err instanceof UnknownCompanyError) return new ApiError(404, err.code, err.message, 'companyId');
  if (err instanceof UnknownSubscriptionError) return new ApiError(404, err.code, err.message, 'path.subscriptionId');
  if (err instanceof UnknownResourceError) return new ApiError(422, err.code, err.message, 'body.resourceId');
  // The use cases' own checks behind the zod schemas (a cursor of theirs, an instant): the field as they name it.
  if (err instanceof InvalidInputError) return new ApiError(400, 'invalid_request', err.message, err.field);
  if (err instanceof HTTPException) {
    if (err.status === 415) return new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
    if (err.status === 400) return new ApiError(400, 'invalid_json', 'the body is not valid JSON', 'body');
  }
  return undefined;
}

export function v1ErrorHandler(logger: Logger) {
  return (err: unknown, c: Context): Response => {
    if (isSqliteBusy(err)) {
      c.header('retry-after', BUSY_RETRY_AFTER_S);
      return c.json(new ApiError(503, 'database_busy', 'the database is locked by another program; nothing was changed, retry').body(), 503);
    }
    const known = apiErrorOf(err);
    if (known) return c.json(known.body(), known.status);
    logger.error({ err: errorMessage(err), path: c.req.path }, 'api handler failed');
    return c.json(new ApiError(500, 'internal_error', 'internal error').body(), 500);
  };
}
