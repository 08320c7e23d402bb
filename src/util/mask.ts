/**
 * A card number as it may appear in logs, the audit table and the status page: enough to
 * tell two cards apart when an operator looks, not enough to clone one.
 */
export function maskCredential(value: string): string {
  if (value.length <= 4) return '*'.repeat(value.length);
  const tail = value.slice(-4);
  return `${'*'.repeat(Math.min(value.length - 4, 8))}${tail}`;
}
