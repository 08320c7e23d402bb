import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reportFigures } from '../helpers/resilience-profile.js';
import { ResilienceSite } from '../helpers/resilience-site.js';
import { cardsCsv } from '../helpers/site-config.js';
import { mountSmallFs, type SmallFs } from '../helpers/store-faults.js';

/*
 * Store faults that are fatal at start, by definition (RESILIENCE.md): a data dir the gateway
 * cannot write, and a QR token key file that is empty or corrupt. Deciding without a writable
 * store would lose every audit row from the first swipe; replacing a bad key would silently
 * void every token issued with it (and break the key a multi-door site shares). So the start
 * fails: non-zero exit, a fatal log line that names the file, and the file left as it was.
 */

const START_BOUND_MS = 15_000;

describe('resilience: store — faults that stop the start', () => {
  let site: ResilienceSite | null = null;
  let fs: SmallFs | null = null;

  afterEach(async () => {
    await site?.gateway?.stop();
    site?.probe().close();
    if (fs) {
      fs.readWrite();
      fs.unmount();
    }
    await site?.close();
    site = null;
    fs = null;
  });

  async function expectFatalStart(s: ResilienceSite, names: string): Promise<void> {
    const p = s.spawnOnly();
    const timer = setTimeout(() => void p.kill9(), START_BOUND_MS);
    const exit = await p.exited;
    clearTimeout(timer);
    const fatal = p.logs().filter((l) => (l.level as number) >= 60);
    reportFigures('store-start-fault', { names, exit, fatal: fatal.map((l) => l.err ?? l.msg) });
    expect(exit.signal, 'exited by itself within the bound').toBeNull();
    expect(exit.code, 'a fatal start exits non-zero').not.toBe(0);
    expect(fatal.length, `a fatal log line: ${p.stderr().slice(-2000)}`).toBeGreaterThan(0);
    expect(JSON.stringify(fatal), 'the fatal line names what is wrong').toContain(names);
  }

  it('a read-only data dir: clear error, exit non-zero', async () => {
    site = await ResilienceSite.create({ readers: 1, logLevel: 'warn' });
    fs = mountSmallFs(join(site.dir, 'data'), 8);
    const r = await site.importCards(cardsCsv([{ email: 'ro@example.com', card: '43000001', doors: ['door-1'] }]), 'cards');
    expect(r.code, r.stderr).toBe(0);
    fs.readOnly();
    await expectFatalStart(site, join(site.dir, 'data'));
  }, 40_000);

  for (const [what, content] of [
    ['empty', ''],
    ['corrupt', 'not-a-key-0123456789\n'],
    ['truncated hex', 'ab'.repeat(20) + '\n'],
  ] as const) {
    it(`a ${what} QR token key file: clear error, exit non-zero, the file left as it was`, async () => {
      const holder: { key: string } = { key: '' };
      site = await ResilienceSite.create({
        readers: 1,
        logLevel: 'warn',
        configure: (o) => {
          holder.key = join(o.dir, 'qr-token.key');
          return { ...o, qrKeyFile: holder.key };
        },
      });
      writeFileSync(holder.key, content, { mode: 0o600 });
      await expectFatalStart(site, holder.key);
      expect(readFileSync(holder.key, 'utf8')).toBe(content);
    }, 40_000);
  }
});
