import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import { ROLES } from './site-files.js';

/*
 * lintel-backup.json, the archive's table of contents. Restore validates it (zod, strict) before
 * it touches anything, and checks every file against its size and SHA-256: an archive that was
 * cut short or edited is refused, not half-restored.
 */

export const MANIFEST_NAME = 'lintel-backup.json';
export const DATABASE_NAME = 'lintel.db';

const fileEntry = z.strictObject({
  /** Name inside the archive. */
  name: z.string().regex(/^(lintel\.db|files\/[a-z-]+)$/),
  /** The database, or a site file's role (site-files.ts). */
  role: z.union([z.literal('database'), z.enum(ROLES)]),
  /** Where it was on the machine backed up (for the operator; restore uses the current config). */
  path: z.string().min(1),
  mode: z.number().int().min(0).max(0o7777),
  uid: z.number().int().min(0),
  gid: z.number().int().min(0),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const manifestSchema = z.strictObject({
  format: z.literal('lintel-backup'),
  formatVersion: z.literal(1),
  createdAt: z.string(),
  lintelVersion: z.string(),
  siteId: z.string(),
  schemaVersion: z.number().int().min(0),
  files: z.array(fileEntry).min(1),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = Manifest['files'][number];

/** Streamed: the database may be gigabytes (a long audit log). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
