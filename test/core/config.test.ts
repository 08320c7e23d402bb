import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/tmp.js';

const minimal = { site: { id: 'hq' }, doors: [{ id: 'front' }] };

describe('config', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => dirs.splice(0).forEach((c) => c()));

  it('fills defaults for a minimal file', () => {
    const cfg = parseConfig(minimal, 'x.yaml', '/etc/lintel');
    expect(cfg.http).toEqual({ host: '127.0.0.1', port: 8080, allowedHosts: [], maxBodyBytes: 65_536, behindTlsProxy: false, authTokenFile: undefined });
    expect(cfg.doors[0]).toMatchObject({ id: 'front', pulseMs: 3000, relay: { channel: 1 }, commandTtlMs: 2000 });
    expect(cfg.access).toEqual({ graceBeforeMinutes: 30, graceAfterMinutes: 30 });
    expect(cfg.mqtt.url).toBe('embedded');
    expect(cfg.dataDir).toBe('/etc/lintel/data');
  });

  it('labels every error with its path', () => {
    const doc = {
      site: { id: 'hq' },
      doors: [{ id: 'a' }, { id: 'b' }, { id: 'c', pulseMs: 'long' }],
      readers: [{ id: 'r1', kind: 'serial', path: '/dev/x', baudRate: -1, door: 'front' }],
    };
    try {
      parseConfig(doc, 'site.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems.some((p) => p.startsWith('doors[2].pulseMs: ') && /expected number/i.test(p))).toBe(true);
      expect(problems.some((p) => p.startsWith('readers[0].baudRate: '))).toBe(true);
    }
  });

  it('rejects duplicate ids, unknown resource doors and a missing upstream token', () => {
    const doc = {
      site: { id: 'hq' },
      doors: [{ id: 'a' }, { id: 'a' }],
      readers: [{ id: 'r1', kind: 'serial', path: '/dev/x', door: 'nope' }],
      resources: [{ id: 'R-1', doors: ['zz'] }],
      upstream: { baseUrl: 'http://127.0.0.1:1', callbackUrl: 'http://127.0.0.1:2/webhooks/offision' },
    };
    const problems = (() => {
      try {
        parseConfig(doc);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    })();
    expect(problems).toEqual(
      expect.arrayContaining([
        'doors[1].id: duplicate door id "a"',
        'resources[0].doors[0]: unknown door "zz"',
        'readers[0].door: unknown door "nope"',
        'upstream.token: give token or tokenFile',
      ]),
    );
  });

  it('refuses MQTT wildcards in the topic prefix and unknown reader kinds', () => {
    expect(() => parseConfig({ ...minimal, mqtt: { topicPrefix: 'a/#' } })).toThrow(/mqtt.topicPrefix: no MQTT wildcards/);
    expect(() => parseConfig({ ...minimal, readers: [{ id: 'r', kind: 'osdp', door: 'front' }] })).toThrow(/readers\[0\]\.kind/);
  });

  it('loads YAML files, resolves relative paths and reports YAML syntax errors', () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'site: { id: hq }\ndataDir: ./state\ndoors:\n  - id: front\n');
    expect(loadConfigFile(good).dataDir).toBe(join(dir, 'state'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'site: { id: hq\n');
    expect(() => loadConfigFile(bad)).toThrow(/YAML:/);
    expect(() => loadConfigFile(join(dir, 'missing.yaml'))).toThrow(/cannot read/);
  });

  it('accepts the commented full example', () => {
    const cfg = loadConfigFile(join(import.meta.dirname, '../../examples/lintel.yaml'));
    expect(cfg.readers.map((r) => r.kind)).toEqual(['serial', 'serial', 'hid']);
    expect(cfg.resources[1]).toMatchObject({ id: 'R-102', graceBeforeMinutes: 10 });
  });
});
