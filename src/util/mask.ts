/** Characters of a credential shown in clear at the end; everything before is starred. */
const SHOWN = 2;
/** Stars at most: the length of a long credential is no business of the log either. */
const MAX_STARS = 8;

/**
 * A card number as it may appear in logs, the audit table and the status page: enough to
 * tell two cards apart when an operator looks, not enough to narrow down a clone. Two digits,
 * not four: with a known facility code the last 4 digits of a 26-bit card leave ~7 candidate
 * card numbers (65,536 / 10^4), the last 2 leave ~655.
 */
export function maskCredential(value: string): string {
  if (value.length <= SHOWN) return '*'.repeat(value.length);
  return `${'*'.repeat(Math.min(value.length - SHOWN, MAX_STARS))}${value.slice(-SHOWN)}`;
}
