/**
 * SQLITE_BUSY (and its extended codes): another connection holds the lock this statement needs.
 * The main-thread connection never waits for a lock (busy_timeout = 0, see db.ts), so every
 * writer on it must expect this error and queue or retry instead of failing the work.
 */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Errors that say the store cannot take a write *now* but may later: the lock (above), a full
 * disk (SQLITE_FULL), an I/O error, a file or directory made read-only. A writer that can keep
 * its work in memory (the audit queue) keeps it and retries; a constraint error, by contrast,
 * would fail the same way forever.
 */
export function isSqliteRetryable(err: unknown): boolean {
  if (isSqliteBusy(err)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|PROTOCOL)/.test(code);
}
