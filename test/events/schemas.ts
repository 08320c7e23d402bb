import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/*
 * The JSON Schemas of firmware-protocol/schemas/, compiled once by ajv 8 (draft 2020-12, strict:
 * a keyword ajv does not know fails the compile, so a schema typo cannot pass silently).
 */

export const SCHEMA_DIR = join(import.meta.dirname, '../../firmware-protocol/schemas');

const ajv = new Ajv2020({ strict: true, allErrors: true });

export function schemaJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, `${name}.schema.json`), 'utf8')) as Record<string, unknown>;
}

export function schemaNames(): string[] {
  return readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json')).map((f) => f.slice(0, -'.schema.json'.length));
}

function validator(name: string, ref?: string): ValidateFunction {
  const schema = schemaJson(name);
  const id = schema.$id as string;
  if (!ajv.getSchema(id)) ajv.addSchema(schema);
  const v = ajv.getSchema(ref === undefined ? id : `${id}#/$defs/${ref}`);
  if (!v) throw new Error(`no schema ${name}${ref === undefined ? '' : ` $defs/${ref}`}`);
  return v;
}

/** The schema's violations of `value`, as readable strings; empty when it conforms. */
export function violations(name: string, value: unknown, ref?: string): string[] {
  const v = validator(name, ref);
  return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
