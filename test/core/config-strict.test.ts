import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

/* An unknown key is a mistake the operator meant to make count: `http.authtoken` must not leave the page open. */

const minimal = { site: { id: 'hq' }, doors: [{ id: 'front' }] };

function problems(doc: unknown): string[] {
  try {
    parseConfig(doc);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

describe('strict configuration keys', () => {
  it('names an unknown key by its path and suggests the near one', () => {
    expect(problems({ ...minimal, http: { host: '0.0.0.0', authtoken: 'x' } })).toContain('http.authtoken: unknown key, did you mean "authToken"?');
  });

  it('labels unknown keys inside lists by position and at the root', () => {
    const out = problems({ ...minimal, doors: [{ id: 'front', pulseMS: 100 }], readrs: [] });
    expect(out).toContain('doors[0].pulseMS: unknown key, did you mean "pulseMs"?');
    expect(out).toContain('readrs: unknown key, did you mean "readers"?');
  });

  it('says only "unknown key" when nothing is close', () => {
    expect(problems({ ...minimal, mqtt: { zzzzzzzz: 1 } })).toContain('mqtt.zzzzzzzz: unknown key');
  });

  it('checks reader keys per kind', () => {
    const out = problems({ ...minimal, readers: [{ id: 'r', kind: 'stdin', door: 'front', baudrate: 9600 }] });
    expect(out).toEqual([expect.stringMatching(/^readers\[0\]\.baudrate: unknown key/)]);
  });
});
