/**
 * SQLITE_BUSY (and its extended codes): another connection holds the lock this statement needs.
 * The main-thread connection never waits for a lock (busy_timeout = 0, see db.ts), so every
 * writer on it must expect this error and queue or retry instead of failing the work.
 */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}
