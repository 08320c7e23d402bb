/*
 * The one error shape of /api/v1: `{ "error": { "code", "message", "field"? } }`. code is
 * stable (clients branch on it), message is for people, field names the failing input
 * ("body.email", "path.card"). Routes throw ApiError; the v1 app's one error handler answers it.
 */

export type ApiStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 428 | 500 | 503;

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: ApiStatus,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ApiErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field === undefined ? {} : { field: this.field }) } };
  }
}
