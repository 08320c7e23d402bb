import { describe, expect, it } from 'vitest';
import { checkNodeVersion, MIN_NODE, TESTED_MAJORS } from '../../src/node-version.js';
import pkg from '../../package.json' with { type: 'json' };

describe('checkNodeVersion', () => {
  it('refuses versions below the minimum with what to install', () => {
    for (const v of ['v18.20.4', 'v20.18.3', 'v19.9.0', 'v16.0.0']) {
      const r = checkNodeVersion(v);
      expect(r.ok, v).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/Node\.js 20\.19\.0 or newer is required, this is v\d/);
    }
  });

  it('accepts the tested majors from the minimum on, without a warning', () => {
    for (const v of ['v20.19.0', 'v20.20.2', '20.19.1']) expect(checkNodeVersion(v)).toEqual({ ok: true });
  });

  it('warns on a newer, untested major but runs', () => {
    for (const major of [22, 24]) {
      const r = checkNodeVersion(`v${major}.1.0`);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.warning).toContain(`Node.js ${major} is not one lintel is tested on (20)`);
    }
  });

  it('refuses what it cannot read', () => {
    expect(checkNodeVersion('banana').ok).toBe(false);
  });

  it('matches package.json engines', () => {
    expect(pkg.engines.node).toBe(`>=${MIN_NODE.major}.${MIN_NODE.minor}`);
    expect(TESTED_MAJORS[0]).toBe(MIN_NODE.major);
  });
});
