import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { hashPassword } from '../../src/console/passwords.js';
import { Gateway } from '../../src/gateway.js';
import { addOperator } from '../../src/store/operators.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Signing in to the console as an operator does: headless Chromium (Debian's package, driven by
 * playwright-core) against a real gateway on loopback with a real broker and SQLite file. Also
 * the check the cookie's Secure flag rests on: Chromium keeps a Secure cookie set by http://127.0.0.1.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

describe.runIf(haveChromium)('console sign-in in a browser', () => {
  let broker: TestBroker;
  let gateway: Gateway;
  let browser: Browser;
  let cleanup: () => void;
  let dir: string;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    broker = await startTestBroker();
    gateway = new Gateway({
      config: parseConfig({
        site: { id: 'signin' },
        dataDir: join(dir, 'data'),
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { url: broker.url, protocolVersion: broker.protocolVersions.includes(5) ? 5 : 4 },
        doors: [{ id: 'front', name: 'Front' }],
      }),
      logger: silentLogger,
    });
    await gateway.start();
    addOperator(gateway.store, { name: 'alice', role: 'operator', passwordHash: await hashPassword('alice password 1') }, Date.now(), 'cli:test');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await broker?.stop();
    cleanup?.();
  });

  it('sends to /login, signs in, lands on / with an HttpOnly, SameSite=Strict, Secure cookie; a wrong password stays on /login', async () => {
    const base = `http://127.0.0.1:${gateway.address()!.port}`;
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');

    await page.fill('#name', 'alice');
    await page.fill('#password', 'not the password');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    await expect.poll(() => page.locator('.error').textContent()).toContain('Wrong name or password.');
    expect(await ctx.cookies()).toEqual([]);

    await page.fill('#name', 'alice');
    await page.fill('#password', 'alice password 1');
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
    await expect.poll(() => page.locator('h1').textContent()).toContain('site signin');
    const [cookie, ...others] = await ctx.cookies();
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({ name: 'lintel_session', domain: '127.0.0.1', path: '/', httpOnly: true, secure: true, sameSite: 'Strict' });
    // HttpOnly: the page's own scripts cannot read it.
    expect(await page.evaluate('document.cookie')).toBe('');
    // Kept across navigations: a reload stays signed in.
    const again = await page.reload();
    expect(again?.status()).toBe(200);
    await page.screenshot({ path: join(dir, 'signed-in.png'), fullPage: true });
    await ctx.close();
  });
});
