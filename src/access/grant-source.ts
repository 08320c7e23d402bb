/**
 * Where a window of access comes from: what the audit row names as the source that granted.
 * The index keeps it as a 4-bit code inside the window's packed door double (record-layout.ts),
 * so the decision reports it without a lookup. Codes are stored in index snapshots: append
 * new sources at the end, never renumber one.
 */
export type GrantSource = 'booking' | 'subscription' | 'visit' | 'staff' | 'group' | 'api';

/** Code 0 is "not said" (a window put without a source): the decision then reports null. */
const SOURCES: readonly (GrantSource | null)[] = [null, 'booking', 'subscription', 'visit', 'staff', 'group', 'api'];

export const SOURCE_CODE_LIMIT = 16;

const CODES = new Map<GrantSource, number>(SOURCES.flatMap((s, code) => (s === null ? [] : [[s, code] as const])));

export function sourceCode(source: GrantSource | undefined): number {
  if (source === undefined) return 0;
  const code = CODES.get(source);
  if (code === undefined) throw new RangeError(`unknown grant source: ${String(source)}`);
  return code;
}

/** The source a code stands for; null for 0 and for codes a newer version wrote. */
export function sourceOf(code: number): GrantSource | null {
  return SOURCES[code] ?? null;
}
