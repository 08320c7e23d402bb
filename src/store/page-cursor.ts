/*
 * The opaque cursor of every paged list (people, subscriptions): the last natural key a page
 * gave out, wrapped so that clients treat it as opaque. Never a row id.
 */

export function encodeCursor(after: string): string {
  return Buffer.from(JSON.stringify([after])).toString('base64url');
}

/** The key a cursor of ours holds, or undefined for anything else (each list refuses it with its own error). */
export function decodeCursor(cursor: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 1 && typeof parsed[0] === 'string') return parsed[0];
  } catch {
    // fall through: any undecodable cursor is the same client error
  }
  return undefined;
}
