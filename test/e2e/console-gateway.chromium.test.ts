import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/console/passwords.js';
import { parseConfig } from '../../src/config/load.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { Gateway } from '../../src/gateway.js';
import { importCards } from '../../src/store/card-import.js';
import { addOperator } from '../../src/store/operators.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { waitFor } from '../helpers/lintel-process.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The operator console of a real gateway, as served by `lintel run`'s own HTTP part: real
 * operator accounts signed in at /login, a real broker, the reference door firmware simulator
 * with its contact sensor, headless Chromium. An operator sees a decision arrive with the
 * person's name, acknowledges a forced-open alarm, opens a door, and locks the site down; a
 * forged form token is refused; an admin enrols a card in learn mode and assigns it in one step.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-output', 'screenshots');
const reader = { id: 'desk', kind: 'stdin', door: 'front', payload: 'card', cardFormat: 'decimal', maxLineLength: 256, direction: 'in' } as const;

describe('the operator console of a running gateway', () => {
  let broker: TestBroker;
  let gateway: Gateway;
  let door: DoorSimulator;
  let browser: Browser;
  let base: string;
  let cleanup: () => void;
  const pulses: unknown[] = [];
  const audit = () => gateway.store.db.prepare('SELECT actor, action, target FROM change_audit WHERE actor LIKE ? ORDER BY id').all('console:%') as Array<{ actor: string; action: string; target: string }>;

  beforeAll(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    mkdirSync(SHOTS, { recursive: true });
    broker = await startTestBroker();
    const protocolVersion = broker.protocolVersions.includes(5) ? 5 : 4;
    gateway = new Gateway({
      config: parseConfig({
        site: { id: 'console', timeZone: 'Europe/Zurich' },
        dataDir: join(t.dir, 'data'),
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { url: broker.url, protocolVersion },
        doors: [{ id: 'front', name: 'Front' }],
        readers: [reader],
      }),
      logger: silentLogger,
    });
    await gateway.start();
    door = new DoorSimulator({ url: broker.url, prefix: gateway.config.mqtt.topicPrefix, siteId: 'console', doorId: 'front', protocolVersion });
    await door.start();
    door.on('pulse', (p) => pulses.push(p));
    importCards(gateway.store, 'email,name,card,doors\nana@example.com,Ana Lima,7340861,front\n', Date.now());
    addOperator(gateway.store, { name: 'alice', role: 'operator', passwordHash: await hashPassword('alice password 1') }, Date.now(), 'cli:test');
    addOperator(gateway.store, { name: 'root', role: 'admin', passwordHash: await hashPassword('root password 12') }, Date.now(), 'cli:test');
    await waitFor('door seen', () => (gateway.relay.doorStatus()[0]?.contact === 'closed' ? true : null));
    base = `http://127.0.0.1:${gateway.address()!.port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await door?.stop();
    await gateway?.stop();
    await broker?.stop();
    cleanup?.();
  });

  async function signIn(name: string, password: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#name', name);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
    await expect.poll(() => page.locator('#live-state').textContent(), { timeout: 15_000 }).toBe('live');
    return page;
  }

  it('an operator signs in, sees a decision live with the name, acknowledges an alarm, opens the door; a forged token is refused', async () => {
    const page = await signIn('alice', 'alice password 1');
    gateway.pipeline.onLine(reader, '7340861');
    await expect.poll(() => page.locator('#decision-rows tr').first().textContent(), { timeout: 15_000 }).toContain('Ana Lima');
    expect(await page.locator('body').textContent()).not.toContain('7340861');

    // Opened with nobody let in: the alarm arrives without a reload.
    await waitFor('pulse relocked', () => (gateway.relay.doorStatus()[0]?.relay === 'locked' ? true : null), 10_000);
    await new Promise((r) => setTimeout(r, 3_500)); // past the badge's unlock window, so the opening is forced
    door.simulateOpen();
    await expect.poll(() => page.getByRole('button', { name: 'acknowledge' }).count(), { timeout: 15_000 }).toBe(1);
    await page.getByRole('button', { name: 'acknowledge' }).click();
    await expect.poll(() => page.locator('#flash').textContent()).toContain('acknowledged');
    expect(gateway.alarms.active()[0]).toMatchObject({ kind: 'forced_open', acknowledgedBy: 'console:alice' });
    door.simulateClose();
    await page.screenshot({ path: join(SHOTS, 'console-gateway-operator.png'), fullPage: true });

    const before = pulses.length;
    await page.getByRole('button', { name: 'open front' }).click();
    await expect.poll(() => page.locator('#flash').textContent()).toBe('door front pulsed');
    await expect.poll(() => pulses.length).toBe(before + 1);
    await page.locator('form[action="/actions/door.pulse"] input[name="_csrf"]').first().evaluate((el) => el.setAttribute('value', 'forged'));
    const refused = page.waitForResponse((r) => r.url().endsWith('/actions/door.pulse'));
    await page.getByRole('button', { name: 'open front' }).click();
    expect((await refused).status()).toBe(403);
    expect(pulses.length).toBe(before + 1);

    // An operator is not offered enrolment.
    expect(await page.locator('#learn').count()).toBe(0);
    expect(audit().map((r) => r.action)).toEqual(['alarm.acknowledge', 'door.pulse']);
    await page.context().close();
  }, 90_000);

  it('lockdown from the page shows on every signed-in page and refuses the next card', async () => {
    const page = await signIn('alice', 'alice password 1');
    const other = await signIn('root', 'root password 12');
    await page.goto(`${base}/`);
    await page.getByRole('button', { name: 'lock down the site' }).click();
    await expect.poll(() => page.locator('#lockdown-banner').textContent()).toContain('console:alice');
    await expect.poll(() => other.locator('#lockdown-banner').count(), { timeout: 15_000 }).toBe(1);
    gateway.pipeline.onLine(reader, '7340861');
    await expect.poll(() => other.locator('#decision-rows tr').first().textContent(), { timeout: 15_000 }).toContain('lockdown');
    await page.getByRole('button', { name: 'end lockdown' }).click();
    await expect.poll(() => other.locator('#lockdown-banner').count(), { timeout: 15_000 }).toBe(0);
    await page.context().close();
    await other.context().close();
  }, 90_000);

  it('an admin arms a reader, sees the presented card unmasked, and assigns it in one step', async () => {
    const page = await signIn('root', 'root password 12');
    await page.locator('#learn select[name="reader"]').selectOption('desk');
    const beforeLearn = pulses.length;
    const submitted = page.getByRole('button', { name: 'arm reader for one card' }).click();
    await waitFor('reader armed', () => (gateway.learn.active ? true : null), 15_000);
    gateway.pipeline.onLine(reader, '5551234');
    await submitted;
    await expect.poll(() => page.locator('#learned').textContent(), { timeout: 15_000 }).toContain('5551234');
    // Captured, not decided: the learned read opened nothing.
    expect(pulses.length).toBe(beforeLearn);
    expect(gateway.recent.list()[0]?.reason).toBe('learn_mode');
    await page.locator('form[action="/actions/learned.assign"] input[name="email"]').fill('ana@example.com');
    await page.getByRole('button', { name: 'assign learned card' }).click();
    await expect.poll(() => page.locator('#flash').textContent()).toContain('assigned');
    const pulsesBefore = pulses.length;
    gateway.pipeline.onLine(reader, '5551234');
    await waitFor('granted', () => (gateway.recent.list()[0]?.reason === 'granted' ? true : null), 10_000);
    await expect.poll(() => pulses.length).toBe(pulsesBefore + 1);
    await page.screenshot({ path: join(SHOTS, 'console-gateway-admin.png'), fullPage: true });
    await page.context().close();
  }, 90_000);
});
