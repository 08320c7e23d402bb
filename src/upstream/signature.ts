import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * Standard Webhooks signatures (upstream-api.md section 4): `v1,` + base64(HMAC-SHA256(key,
 * `{id}.{timestamp}.{raw body}`)), key = base64-decoded secret after `whsec_`. Pure functions,
 * shared by the receiver and the simulator.
 */

export const SIGNATURE_TOLERANCE_SEC = 5 * 60;

export function secretKey(secret: string): Buffer {
  if (!secret.startsWith('whsec_')) throw new Error('webhook secret must start with whsec_');
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

function mac(key: Buffer, webhookId: string, timestamp: string, body: Buffer | string): Buffer {
  const h = createHmac('sha256', key);
  h.update(`${webhookId}.${timestamp}.`);
  h.update(body);
  return h.digest();
}

export function signWebhook(secret: string, webhookId: string, timestamp: number, body: Buffer | string): string {
  return `v1,${mac(secretKey(secret), webhookId, String(timestamp), body).toString('base64')}`;
}

/** Parses `webhook-signature`: space-separated `v1,<base64>`; other versions are ignored. */
export function parseSignatures(header: string): Buffer[] {
  const out: Buffer[] = [];
  for (const part of header.split(' ')) {
    if (!part.startsWith('v1,')) continue;
    const b64 = part.slice(3);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const sig = Buffer.from(b64, 'base64');
    if (sig.length === 32) out.push(sig);
  }
  return out;
}

/** Strict integer seconds; anything else is no timestamp. */
export function parseTimestamp(header: string): number | null {
  if (!/^\d{1,12}$/.test(header)) return null;
  return Number(header);
}

export function timestampFresh(timestampSec: number, nowMs: number, toleranceSec = SIGNATURE_TOLERANCE_SEC): boolean {
  return Math.abs(nowMs / 1000 - timestampSec) <= toleranceSec;
}

/**
 * Which of `secrets` (by index) signed this message. Every candidate is compared with
 * timingSafeEqual and the loop never exits early, so timing says nothing about which matched.
 */
export function matchingSecrets(
  secrets: readonly string[],
  webhookId: string,
  timestamp: string,
  body: Buffer,
  signatures: readonly Buffer[],
): number[] {
  const matches: number[] = [];
  secrets.forEach((secret, i) => {
    const expected = mac(secretKey(secret), webhookId, timestamp, body);
    let ok = false;
    for (const sig of signatures) {
      if (timingSafeEqual(expected, sig)) ok = true;
    }
    if (ok) matches.push(i);
  });
  return matches;
}
