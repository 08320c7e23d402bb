import { isIP } from 'node:net';

/**
 * Whether an HTTP bind address only accepts connections from this host, which is what lets the
 * operator API run without a token. Addresses are parsed, never prefix-matched: `127.0.0.1.nip.io`
 * is a DNS name that resolves wherever its owner likes. Loopback is IPv4 127.0.0.0/8, IPv6 ::1,
 * IPv4-mapped ::ffff:127.x, and the name `localhost` (RFC 6761 reserves it for loopback).
 */
export function isLoopback(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase() === 'localhost') return true;
  switch (isIP(h)) {
    case 4:
      return h.split('.')[0] === '127';
    case 6:
      return isLoopbackV6(h);
    default:
      return false;
  }
}

/** ::1 in any spelling, or an IPv4-mapped (::ffff:0:0/96) address inside 127.0.0.0/8. */
function isLoopbackV6(h: string): boolean {
  const words = expandV6(h.toLowerCase());
  if (!words) return false;
  const zeros = (n: number) => words.slice(0, n).every((w) => w === 0);
  if (zeros(7) && words[7] === 1) return true;
  return zeros(5) && words[5] === 0xffff && words[6]! >> 8 === 127;
}

/** Eight 16-bit words of a valid IPv6 address (`isIP` already accepted it). */
function expandV6(h: string): number[] | null {
  let text = h.split('%')[0]!;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const left = part(head);
  if (tail === undefined) return left.length === 8 ? left : null;
  const right = part(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
