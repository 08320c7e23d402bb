import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/*
 * A site's lintel.yaml for the built process: doors, one serial reader per pty, a real broker,
 * optionally the booking platform. Written as YAML through the `yaml` package so a test states
 * what it wants as data, and a reload test can write a second version of the same file.
 */

export interface SiteReader {
  id: string;
  door: string;
  path: string;
  payload?: 'card' | 'qr' | 'auto';
}

export interface SiteOptions {
  dir: string;
  brokerUrl: string;
  protocolVersion: 4 | 5;
  httpPort: number;
  doors: Array<{ id: string; pulseMs?: number }>;
  readers: SiteReader[];
  upstream?: { baseUrl: string; callbackUrl: string; token?: string; tokenFile?: string; reconcileIntervalSec?: number };
  resources?: Array<{ id: string; doors: string[] }>;
  logLevel?: string;
  qrKeyFile?: string;
  /** Extra top-level keys, merged last (a test's own knobs). */
  extra?: Record<string, unknown>;
}

export const SITE_ID = 'res';

export function siteConfigObject(o: SiteOptions): Record<string, unknown> {
  return {
    site: { id: SITE_ID },
    dataDir: join(o.dir, 'data'),
    log: { level: o.logLevel ?? 'info' },
    http: { host: '127.0.0.1', port: o.httpPort },
    mqtt: { url: o.brokerUrl, topicPrefix: 'lintel', protocolVersion: o.protocolVersion },
    doors: o.doors.map((d) => ({ id: d.id, pulseMs: d.pulseMs ?? 1000 })),
    readers: o.readers.map((r) => ({
      id: r.id,
      kind: 'serial',
      path: r.path,
      baudRate: 9600,
      terminator: 'crlf',
      cardFormat: 'decimal',
      payload: r.payload ?? 'card',
      door: r.door,
    })),
    ...(o.resources ? { resources: o.resources } : {}),
    ...(o.upstream
      ? {
          upstream: {
            baseUrl: o.upstream.baseUrl,
            callbackUrl: o.upstream.callbackUrl,
            ...(o.upstream.token ? { token: o.upstream.token } : {}),
            ...(o.upstream.tokenFile ? { tokenFile: o.upstream.tokenFile } : {}),
            reconcileIntervalSec: o.upstream.reconcileIntervalSec ?? 300,
            requestTimeoutMs: 2000,
          },
        }
      : {}),
    ...(o.qrKeyFile ? { qr: { keyFile: o.qrKeyFile } } : {}),
    ...o.extra,
  };
}

export function siteConfigText(o: SiteOptions): string {
  return stringify(siteConfigObject(o));
}

/** Writes `lintel.yaml` in `o.dir` and returns its path. */
export function writeSiteConfig(o: SiteOptions, name = 'lintel.yaml'): string {
  const file = join(o.dir, name);
  writeFileSync(file, siteConfigText(o));
  return file;
}

/** A CSV for `lintel cards import`: one row per person, decimal cards, staff doors. */
export function cardsCsv(rows: Array<{ email: string; card: string; doors: string[]; state?: 'active' | 'disabled' | 'lost' }>): string {
  const lines = ['email,name,card,format,state,doors'];
  for (const r of rows) lines.push(`${r.email},${r.email.split('@')[0]},${r.card},decimal,${r.state ?? 'active'},${r.doors.join(';')}`);
  return lines.join('\n') + '\n';
}
