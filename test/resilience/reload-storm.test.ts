import { closeSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchStatus, sleep, waitFor } from '../helpers/lintel-process.js';
import { budgetMs, profile, reportFigures } from '../helpers/resilience-profile.js';
import { ResilienceSite } from '../helpers/resilience-site.js';
import { cardsCsv, siteConfigObject, type SiteOptions } from '../helpers/site-config.js';
import { holdWriteLock } from '../helpers/store-faults.js';
import { UPSTREAM_TOKEN, UpstreamSite } from '../helpers/upstream-site.js';

/*
 * Reload storm: SIGHUP the built process over and over while its config file is valid,
 * invalid, half-written (truncated, signalled, then finished — a non-atomic editor save), names
 * a new door with a resource mapped to it, points at a token file that was moved away, or
 * while another process holds the write lock. It must stay up, keep the running configuration
 * when a reload fails, and keep deciding for a known card throughout (issue 9, finding 2).
 */

const CARD = '46000001';

type Variant = 'valid' | 'valid-remapped' | 'yaml-error' | 'schema-error' | 'half-written' | 'new-door-resource' | 'token-file-moved';
const VARIANTS: Variant[] = ['valid', 'valid-remapped', 'yaml-error', 'schema-error', 'half-written', 'new-door-resource', 'token-file-moved'];

describe('resilience: reload storm', () => {
  let site: ResilienceSite;
  let upstream: UpstreamSite;
  let tokenFile = '';

  beforeAll(async () => {
    upstream = await new UpstreamSite(['R-1', 'R-2']).start();
    site = await ResilienceSite.create({
      readers: 1,
      logLevel: 'info',
      configure: (o) => {
        tokenFile = join(o.dir, 'upstream.token');
        writeFileSync(tokenFile, UPSTREAM_TOKEN + '\n', { mode: 0o600 });
        const u = upstream.configure({ 'R-1': ['door-1'] })(o);
        return { ...u, upstream: { ...u.upstream!, token: undefined, tokenFile } };
      },
    });
    const r = await site.importCards(cardsCsv([{ email: 'reload@example.com', card: CARD, doors: ['door-1'] }]), 'cards');
    expect(r.code, r.stderr).toBe(0);
    await site.start();
  }, 60_000);

  afterAll(async () => {
    await site?.close();
    await upstream?.stop();
  });

  function textFor(v: Variant): string {
    const o: SiteOptions = site.options;
    switch (v) {
      case 'valid':
      case 'half-written':
      case 'token-file-moved':
        return stringify(siteConfigObject(o));
      case 'valid-remapped':
        return stringify(siteConfigObject({ ...o, doors: o.doors.map((d) => ({ ...d, pulseMs: 2500 })), resources: [{ id: 'R-1', doors: ['door-1'] }, { id: 'R-2', doors: ['door-1'] }] }));
      case 'yaml-error':
        return stringify(siteConfigObject(o)).replace('doors:', 'doors: [\n  {');
      case 'schema-error':
        return stringify({ ...siteConfigObject(o), readers: [{ id: 'r', kind: 'serial', path: '/dev/null', door: 'no-such-door' }] });
      case 'new-door-resource':
        return stringify(siteConfigObject({ ...o, doors: [...o.doors, { id: 'door-new' }], resources: [{ id: 'R-1', doors: ['door-1'] }, { id: 'R-2', doors: ['door-new'] }] }));
    }
  }

  async function granted(): Promise<boolean> {
    const before = site.commands.length;
    site.swipe(0, CARD);
    return waitFor('unlock for the known card', () => (site.commands.length > before ? true : undefined), 5000).catch(() => false);
  }

  it(`${profile.reloads} SIGHUPs with valid, invalid and half-written files: up and deciding throughout`, async () => {
    const pid = site.gateway!.child.pid!;
    const used: Record<string, number> = {};
    let decided = 0;
    let lock: ReturnType<typeof holdWriteLock> | null = null;
    for (let i = 0; i < profile.reloads; i++) {
      const v = VARIANTS[i % VARIANTS.length]!;
      used[v] = (used[v] ?? 0) + 1;
      // A stretch of signals lands while another process holds the write lock.
      if (i === Math.floor(profile.reloads / 2)) {
        lock = holdWriteLock(site.dbFile, 3000);
        await lock.locked;
      }
      const text = textFor(v);
      if (v === 'token-file-moved') renameSync(tokenFile, `${tokenFile}.moved`);
      if (v === 'half-written') {
        // Truncate, write a part, signal mid-write, then finish: what a non-atomic save looks like.
        const cut = Math.floor(text.length * Math.random());
        const fd = openSync(site.configFile, 'w');
        writeSync(fd, text.slice(0, cut));
        process.kill(pid, 'SIGHUP');
        await sleep(Math.random() * 20);
        writeSync(fd, text.slice(cut));
        closeSync(fd);
      } else {
        writeFileSync(site.configFile, text);
        process.kill(pid, 'SIGHUP');
      }
      await sleep(20 + Math.random() * 60);
      if (v === 'token-file-moved') renameSync(`${tokenFile}.moved`, tokenFile);
      expect(site.gateway!.alive(), `alive after SIGHUP ${i + 1} (${v}): ${site.gateway!.stderr().slice(-1500)}`).toBe(true);
      if (i % 10 === 9) {
        expect(await granted(), `deciding after SIGHUP ${i + 1}`).toBe(true);
        decided++;
      }
    }
    await lock?.released;
    // Back to the file the gateway started with: one more reload, and it still decides.
    writeFileSync(site.configFile, textFor('valid'));
    process.kill(pid, 'SIGHUP');
    await sleep(500);
    expect(site.gateway!.alive(), site.gateway!.stderr().slice(-2000)).toBe(true);
    expect(await granted(), 'deciding after the storm').toBe(true);
    const status = await fetchStatus(site.httpPort);
    expect(status?.checks.database?.ok).toBe(true);
    const logs = site.gateway!.logs();
    reportFigures('reload-storm', {
      signals: profile.reloads,
      variants: used,
      checkedDecisions: decided + 1,
      reloadLogLines: logs.filter((l) => /reload/i.test(String(l.msg))).length,
      errorLogLines: logs.filter((l) => (l.level as number) >= 50).length,
    });
  }, budgetMs(profile.reloads * 150 + 10_000));
});
