/** The message of anything thrown, for a log line or a status field. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
