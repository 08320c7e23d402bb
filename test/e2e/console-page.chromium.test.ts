import { serve, type ServerType } from '@hono/node-server';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { Gateway } from '../../src/gateway.js';
import { createHttpApp } from '../../src/http/app.js';
import { createConsole, type Console } from '../../src/http/console/console-app.js';
import { importCards } from '../../src/store/card-import.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { waitFor } from '../helpers/lintel-process.js';
import { fixedSession, formCsrf } from '../helpers/console-fixtures.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The console as an operator sees it: headless Chromium against a real gateway (real broker,
 * the reference door firmware simulator, a real SQLite file), with the console mounted on the
 * gateway's HTTP app the way the console part will mount it, served on loopback, running the
 * gateway's own OperatorActions. The session is a fixed operator (the login helper's session
 * store is not merged yet) with a real CSRF comparison.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-output', 'screenshots');
const reader = { id: 'desk', kind: 'stdin', door: 'front', payload: 'card', cardFormat: 'decimal', maxLineLength: 256, direction: 'in' } as const;

describe.runIf(existsSync(CHROMIUM))('the console in a browser', () => {
  let broker: TestBroker;
  let gateway: Gateway;
  let door: DoorSimulator;
  let browser: Browser;
  let server: ServerType;
  let console_: Console;
  let base: string;
  let cleanup: () => void;
  const pulses: unknown[] = [];

  beforeAll(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    mkdirSync(SHOTS, { recursive: true });
    broker = await startTestBroker();
    const protocolVersion = broker.protocolVersions.includes(5) ? 5 : 4;
    const config = parseConfig({
      site: { id: 'browser', timeZone: 'Europe/Zurich' },
      dataDir: join(t.dir, 'data'),
      http: { host: '127.0.0.1', port: 0, authToken: 'op-token' },
      mqtt: { url: broker.url, protocolVersion },
      doors: [{ id: 'front', name: 'Front <entrance>' }, { id: 'back', name: 'Back door' }],
    });
    gateway = new Gateway({ config, logger: silentLogger });
    await gateway.start();
    door = new DoorSimulator({ url: broker.url, prefix: config.mqtt.topicPrefix, siteId: 'browser', doorId: 'front', protocolVersion });
    await door.start();
    door.on('pulse', (p) => pulses.push(p));
    importCards(gateway.store, 'email,name,card,doors\nana@example.com,Ana Lima,7340861,front\n', Date.now());
    gateway.store.transact((tx) => tx.people.upsert('zoe@example.com', 'Zoe Pending', Date.now()));
    gateway.pipeline.onLine(reader, '5550001');
    await waitFor('relay connected', () => gateway.relay.connected() || null);

    console_ = createConsole({
      session: fixedSession({ name: 'olga', role: 'operator' }, 'browser-token'),
      csrf: formCsrf,
      actions: gateway.actions,
      status: () => gateway.status(),
      live: { recent: gateway.recent, onDecision: (l) => gateway.pipeline.onDecision(l), onDoorState: (l) => gateway.relay.onState(() => l()), alarms: gateway.alarms },
      store: gateway.store,
      timeZone: () => 'Europe/Zurich',
      clock: gateway.clock,
      logger: silentLogger,
      metrics: gateway.metrics,
      limits: { statusMs: 1000 },
    });
    const app = createHttpApp({ status: () => gateway.status(), metrics: gateway.metrics, logger: silentLogger, authToken: 'op-token', parts: [{ console: () => console_.app }], allowedHosts: [], maxBodyBytes: 65_536, timeZone: 'Europe/Zurich' });
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(info.port));
    });
    base = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    console_?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await door?.stop();
    await gateway?.stop();
    await broker?.stop();
    cleanup?.();
  });

  it('shows a new decision without a reload, with the person named and the card masked', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.goto(`${base}/`);
    await expect.poll(() => page.locator('#live-state').textContent()).toBe('live');
    await expect.poll(() => page.locator('#decision-rows tr').count()).toBe(1);
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42)); // gone if the page reloads

    gateway.pipeline.onLine(reader, '7340861');
    await expect.poll(() => page.locator('#decision-rows tr').count()).toBe(2);
    const row = (await page.locator('#decision-rows tr').first().textContent()) ?? '';
    expect(row).toContain('Ana Lima');
    expect(row).toContain('*****61');
    expect(row).toContain('granted');
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).toContain('Front <entrance>');
    expect(body).not.toContain('7340861');
    expect(body).toContain('People pending a card (1)');
    expect(errors).toEqual([]); // the CSP let the script run: no violation reported
    await page.screenshot({ path: join(SHOTS, 'console-desktop.png'), fullPage: true });
    await page.close();
  });

  it('opens the door from its button: the firmware pulses and the page says so', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/`);
    const before = pulses.length;
    await page.getByRole('button', { name: 'open front' }).click();
    await page.waitForURL(`${base}/`);
    await expect.poll(() => page.locator('#flash').textContent()).toBe('door front pulsed');
    await expect.poll(() => pulses.length).toBe(before + 1);
    await page.close();
  });

  it('works without JavaScript, and refuses a form whose token was tampered with', async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    expect(await page.locator('#live-state').textContent()).toBe('live updates: connecting…'); // no script ran
    const before = pulses.length;
    await page.getByRole('button', { name: 'open front' }).click();
    await expect.poll(() => page.locator('#flash').textContent()).toBe('door front pulsed');
    await expect.poll(() => pulses.length).toBe(before + 1);
    await page.locator('form[action="/actions/door.pulse"] input[name="_csrf"]').first().evaluate((el) => el.setAttribute('value', 'forged'));
    const refused = page.waitForResponse((r) => r.url().endsWith('/actions/door.pulse'));
    await page.getByRole('button', { name: 'open front' }).click();
    expect((await refused).status()).toBe(403);
    expect(pulses.length).toBe(before + 1);
    await ctx.close();
  });

  it('locks the site down from the page and shows it on every page load and live', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await page.goto(`${base}/`);
    await page.getByRole('button', { name: 'lock down the site' }).click();
    expect(await page.locator('#flash').textContent()).toBe('lockdown on');
    await expect.poll(() => page.locator('#lockdown-banner').textContent()).toContain('LOCKDOWN');
    expect(await page.locator('#lockdown-banner').textContent()).toContain('console:olga');
    // A second page, already open, learns of it over /events.
    const other = await browser.newPage();
    await other.goto(`${base}/`);
    await page.getByRole('button', { name: 'end lockdown' }).click();
    await expect.poll(() => other.locator('#lockdown-banner').count()).toBe(0);
    await page.getByRole('button', { name: 'lock down the site' }).click();
    await expect.poll(() => other.locator('#lockdown-banner').count(), { timeout: 10_000 }).toBe(1);
    gateway.pipeline.onLine(reader, '7340861');
    await expect.poll(() => other.locator('#decision-rows tr').first().textContent()).toContain('denied');
    await page.screenshot({ path: join(SHOTS, 'console-phone-lockdown.png'), fullPage: true });
    await other.close();
    await page.close();
  });
});
