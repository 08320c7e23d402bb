import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { DedupCache, decideCommand } from '../../src/doors/firmware-logic.js';
import {
  DoorAck, DoorState, GatewayStatus, ProtocolError, PulseCommand,
  doorAckSchema, doorStateSchema, gatewayStatusSchema, pulseCommandSchema,
} from '../../src/doors/protocol.js';
import { validateJsonSchema } from './json-schema-lite.js';

const root = join(import.meta.dirname, '../../firmware-protocol');

interface VectorCase {
  name: string;
  payload?: unknown;
  payloadText?: string;
  schemaValid: boolean | null;
  valid: boolean;
  errorCode?: string;
  context?: Partial<FirmwareContext>;
  firmware?: Record<string, unknown>;
}
interface FirmwareContext { now: number; retained: boolean; timeSynced: boolean; channels: number; seen: Array<{ id: string; expiresAt: number }> }
interface VectorFile { message: string; schema: string; defaultContext?: FirmwareContext; cases: VectorCase[] }

interface Message { serialize(): string }
const codecs: Record<string, { parse: (input: string) => Message; zod: z.ZodType }> = {
  'pulse-command': { parse: (s) => PulseCommand.parse(s), zod: pulseCommandSchema },
  'door-ack': { parse: (s) => DoorAck.parse(s), zod: doorAckSchema },
  'door-state': { parse: (s) => DoorState.parse(s), zod: doorStateSchema },
  'gateway-status': { parse: (s) => GatewayStatus.parse(s), zod: gatewayStatusSchema },
};

const vectorFiles = readdirSync(join(root, 'vectors')).filter((f) => f.endsWith('.json')).sort();
const load = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const textOf = (c: VectorCase): string => c.payloadText ?? JSON.stringify(c.payload);

describe('firmware-protocol vectors', () => {
  it('covers every message with a codec, and every vector file names a known message', () => {
    const messages = vectorFiles.map((f) => load<VectorFile>(join(root, 'vectors', f)).message).sort();
    expect(messages).toEqual(Object.keys(codecs).sort());
  });

  for (const file of vectorFiles) {
    const vectors = load<VectorFile>(join(root, 'vectors', file));
    const codec = codecs[vectors.message];
    const jsonSchema = load<Record<string, unknown>>(join(root, 'vectors', vectors.schema));

    describe(vectors.message, () => {
      it.each(vectors.cases.map((c) => [c.name, c] as const))('%s parses exactly as documented', (_name, c) => {
        if (!codec) throw new Error(`no codec for ${vectors.message}`);
        if (c.valid) {
          const message = codec.parse(textOf(c));
          // Round trip: what we serialize is schema-valid and parses back to the same message.
          const again = codec.parse(message.serialize());
          expect(again).toEqual(message);
          expect(validateJsonSchema(jsonSchema, JSON.parse(message.serialize()))).toEqual([]);
        } else {
          let caught: unknown = null;
          try { codec.parse(textOf(c)); } catch (err) { caught = err; }
          expect(caught).toBeInstanceOf(ProtocolError);
          expect((caught as ProtocolError).code).toBe(c.errorCode);
        }
      });

      it.each(vectors.cases.filter((c) => c.schemaValid !== null).map((c) => [c.name, c] as const))(
        '%s: the JSON Schema and the zod schema agree with the vector', (_name, c) => {
          const jsonErrors = validateJsonSchema(jsonSchema, c.payload);
          expect(jsonErrors.length === 0).toBe(c.schemaValid);
          expect(codec?.zod.safeParse(c.payload).success).toBe(c.schemaValid);
        },
      );

      if (vectors.defaultContext) {
        const base = vectors.defaultContext;
        it.each(vectors.cases.map((c) => [c.name, c] as const))('%s: firmware does what the vector says', (_name, c) => {
          const ctx = { ...base, ...c.context };
          const dedup = new DedupCache();
          for (const seen of ctx.seen) dedup.remember(seen.id, seen.expiresAt, ctx.now);
          const decision = decideCommand({ payload: textOf(c), retained: ctx.retained, now: ctx.now, timeSynced: ctx.timeSynced, channels: ctx.channels, dedup });
          expect(decision).toEqual(c.firmware);
        });
      }
    });
  }
});
