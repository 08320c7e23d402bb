import type { z } from 'zod';
import { ProtocolError } from '../protocol.js';

/**
 * Off-the-shelf devices send more than lintel's firmware (a Shelly's status carries its energy
 * meter): a larger cap than protocol.ts' 1 KiB, still small enough that parsing costs nothing.
 */
export const MAX_DEVICE_PAYLOAD_BYTES = 16_384;

/** JSON from a device, size-capped and checked against `schema` (zod at the boundary). */
export function parseDeviceJson<S extends z.ZodType>(schema: S, payload: Buffer, what: string): z.infer<S> {
  if (payload.length > MAX_DEVICE_PAYLOAD_BYTES) throw new ProtocolError('too-large', `${what}: ${payload.length} bytes exceeds ${MAX_DEVICE_PAYLOAD_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    throw new ProtocolError('not-json', `${what}: not JSON`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ProtocolError('schema', `${what}: ${detail}`);
  }
  return result.data;
}

/** A short text payload ("ON", "Online", "true"), trimmed; anything long is not one. */
export function deviceText(payload: Buffer, what: string): string {
  if (payload.length > 64) throw new ProtocolError('too-large', `${what}: ${payload.length} bytes is not a state word`);
  return payload.toString('utf8').trim();
}
