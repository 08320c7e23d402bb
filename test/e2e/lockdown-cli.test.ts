import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { useCliSite } from '../helpers/cli-site.js';

/* `lintel lockdown on|off|status` as an operator runs it (the built CLI): site_state with who and when, --json, exit codes. */

describe('lintel lockdown', () => {
  const site = useCliSite();
  const lintel = (...args: string[]) => site.lintel(...args);

  it('switches on and off with who and when; a repeated switch says unchanged and keeps the first', () => {
    expect(JSON.parse(lintel('lockdown', 'status', '--json').stdout)).toEqual({ on: false, updatedAt: null, updatedBy: null });
    const on = lintel('lockdown', 'on', '--by', 'ana@front desk');
    expect(on.status, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/^lockdown ON since \d{4}-\d\d-\d\dT.*Z \(by ana@front desk\): only lockdown-override groups open doors/);
    const again = lintel('lockdown', 'on', '--json');
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ on: true, updatedBy: 'ana@front desk', changed: false });
    const db = new Database(join(site.dir, 'data', 'lintel.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT key, value, updated_by FROM site_state').all()).toEqual([{ key: 'lockdown', value: 'on', updated_by: 'ana@front desk' }]);
    } finally {
      db.close();
    }
    const off = lintel('lockdown', 'off', '--json');
    expect(JSON.parse(off.stdout)).toMatchObject({ on: false, changed: true, updatedBy: expect.stringMatching(/^cli:/) });
    expect(lintel('lockdown', 'status').stdout).toMatch(/^lockdown off since .* \(by cli:/);
  });

  it('a bad --by or a missing sub-command is a usage error (exit 2) naming the usage; nothing is written', () => {
    const bad = lintel('lockdown', 'on', '--by', 'x; DROP TABLE');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--by: letters, digits[\s\S]*usage: lintel lockdown on/);
    expect(JSON.parse(lintel('lockdown', 'status', '--json').stdout)).toMatchObject({ on: false });
    const missing = lintel('lockdown');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('usage: lintel lockdown status');
  });
});
