import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyMemberToken } from '../../src/qr/member-token.js';
import { callbackSchema } from '../../src/upstream/schemas.js';
import { signWebhook } from '../../src/upstream/signature.js';
import { CLI, fetchStatus, waitFor, waitForUpstreamSettled } from '../helpers/lintel-process.js';
import { budgetMs, profile } from '../helpers/resilience-profile.js';
import { ResilienceSite } from '../helpers/resilience-site.js';
import { cardsCsv } from '../helpers/site-config.js';
import { UpstreamSite } from '../helpers/upstream-site.js';

/*
 * Hostile input against the built `lintel run` over its real interfaces: signed-callback
 * bodies and headers, operator API bodies, serial lines and QR payloads typed into ptys.
 * Whatever arrives: no crash, no 5xx but the documented 503, no door opened, and not one byte
 * of access state changed by a rejected input (a hash of people, cards, grants, doors,
 * bookings, subscriptions and the replay log, before and after). Runs are bounded; every
 * request has a deadline, so a hang fails instead of stalling the suite.
 */

const CARD = '45000001';
const EMAIL = 'member@example.com';
const runs = { numRuns: profile.fuzzRuns };

describe('resilience: hostile input — the running gateway', () => {
  let site: ResilienceSite;
  let upstream: UpstreamSite;
  let base = '';

  beforeAll(async () => {
    upstream = await new UpstreamSite(['R-1']).start();
    site = await ResilienceSite.create({
      readers: 2,
      logLevel: 'warn',
      configure: (o) => {
        const withUpstream = upstream.configure({ 'R-1': ['door-1'] })(o);
        return { ...withUpstream, readers: withUpstream.readers.map((r, i) => (i === 1 ? { ...r, payload: 'qr' as const } : r)) };
      },
    });
    const r = await site.importCards(cardsCsv([{ email: EMAIL, card: CARD, doors: ['door-1'] }]), 'cards');
    expect(r.code, r.stderr).toBe(0);
    await site.start();
    await waitFor('platform subscription', () => (upstream.subscribed() ? true : undefined), 15_000);
    await waitForUpstreamSettled(site.httpPort);
    base = `http://127.0.0.1:${site.httpPort}`;
  }, 60_000);

  afterAll(async () => {
    await site?.close();
    await upstream?.stop();
  });

  function stateWithReplayLog(): string {
    const probe = site.probe();
    const replay = probe.db.prepare('SELECT webhook_id FROM webhook_events ORDER BY webhook_id').pluck().all().join(',');
    return `${probe.stateDigest()}|${replay}`;
  }

  function liveSubscription(): { id: string; secret: string } {
    const row = site.probe().db.prepare("SELECT subscription_id AS id, secret FROM upstream_subscriptions WHERE state = 'active' ORDER BY created_at DESC LIMIT 1").get() as { id: string; secret: string };
    expect(row).toBeDefined();
    return row;
  }

  it('callback bodies and headers: every non-acceptable callback is refused and changes nothing', async () => {
    const sub = liveSubscription();
    const otherSecret = 'whsec_' + Buffer.alloc(24, 7).toString('base64');
    const dateish = fc.oneof(fc.constant(new Date().toISOString().slice(0, 10)), fc.string({ maxLength: 12 }), fc.constant('2026-02-30'));
    const nearValid = fc.record(
      {
        subscriptionId: fc.oneof(fc.constant(sub.id), fc.string({ maxLength: 80 })),
        type: fc.oneof(fc.constant('appointment.created'), fc.jsonValue()),
        resourceId: fc.oneof(fc.constant('R-1'), fc.constant('R-unmapped'), fc.string({ maxLength: 80 }), fc.integer()),
        appointmentId: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()),
        dates: fc.oneof(fc.array(dateish, { maxLength: 5 }), fc.jsonValue()),
        occurredAt: fc.oneof(fc.constant(new Date().toISOString()), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      nearValid.map((o) => JSON.stringify(o)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.constant('x'.repeat(20_000)), // over maxCallbackBytes
    );
    const headers = fc.record({
      id: fc.option(fc.oneof(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => /^[\x21-\x7e]+$/.test(s)), fc.constant('m'.repeat(300))), { nil: undefined }),
      ts: fc.option(fc.oneof(fc.constant('now'), fc.constant('old'), fc.stringMatching(/^[0-9a-z-]{0,14}$/)), { nil: undefined }),
      sig: fc.option(fc.constantFrom('ours', 'other', 'garbage', 'many'), { nil: undefined }),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
    });
    await fc.assert(
      fc.asyncProperty(body, headers, async (text, h) => {
        const id = h.id ?? '';
        const ts = h.ts === 'now' ? String(Math.floor(Date.now() / 1000)) : h.ts === 'old' ? String(Math.floor(Date.now() / 1000) - 3600) : (h.ts ?? '');
        const sig =
          h.sig === 'ours' ? signWebhook(sub.secret, id, Number(ts), text)
          : h.sig === 'other' ? signWebhook(otherSecret, id, Number(ts), text)
          : h.sig === 'many' ? Array.from({ length: 50 }, () => 'v1,' + Buffer.alloc(32, 1).toString('base64')).join(' ')
          : h.sig === 'garbage' ? 'v1,not base64!!'
          : '';
        // Acceptable = what the platform itself would send: skip it, it is meant to change state.
        let acceptable: boolean;
        try {
          const parsed = callbackSchema.safeParse(JSON.parse(text));
          acceptable = parsed.success && parsed.data.subscriptionId === sub.id && parsed.data.resourceId === 'R-1' && h.sig === 'ours' && h.ts === 'now' && id !== '' && id.length <= 256;
        } catch {
          acceptable = false;
        }
        fc.pre(!acceptable);
        const before = stateWithReplayLog();
        const hdrs: Record<string, string> = {};
        if (h.contentType) hdrs['content-type'] = h.contentType;
        if (h.id !== undefined) hdrs['webhook-id'] = id;
        if (h.ts !== undefined) hdrs['webhook-timestamp'] = ts;
        if (h.sig !== undefined) hdrs['webhook-signature'] = sig;
        const res = await fetch(`${base}/webhooks/offision`, { method: 'POST', headers: hdrs, body: Buffer.from(text, 'latin1'), signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        expect([200, 201, 204, 500, 502, 504], `status ${res.status}`).not.toContain(res.status);
        expect(res.status === 202 || (res.status >= 400 && res.status < 500) || res.status === 503, `status ${res.status}`).toBe(true);
        expect(stateWithReplayLog(), 'state after a refused callback').toBe(before);
      }),
      runs,
    );
    expect(site.gateway!.alive()).toBe(true);
  }, budgetMs(profile.fuzzRuns * 50));

  it('operator API bodies: refused with a 4xx, never a 5xx, nothing stored', async () => {
    const before = stateWithReplayLog();
    const req = fc.record({
      method: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'GET'),
      path: fc.oneof(fc.constant('/api/qr/tokens'), fc.constant('/api/status'), fc.stringMatching(/^\/api\/(qr\/)?[a-z0-9_-]{1,30}$/)),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', 'multipart/form-data', ''),
      body: fc.oneof(
        fc.record({ email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 300 }), fc.jsonValue()) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.string({ unit: 'binary', maxLength: 400 }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(req, async (r) => {
        fc.pre(!(r.method === 'GET' && r.path === '/api/status'));
        const init: RequestInit = { method: r.method, headers: r.contentType ? { 'content-type': r.contentType } : {}, signal: AbortSignal.timeout(5000) };
        if (r.method !== 'GET') init.body = Buffer.from(r.body, 'latin1');
        const res = await fetch(`${base}${r.path}`, init);
        await res.arrayBuffer();
        expect(res.status >= 400 && res.status < 500, `${r.method} ${r.path} → ${res.status}`).toBe(true);
      }),
      runs,
    );
    expect(stateWithReplayLog()).toBe(before);
    expect(site.gateway!.alive()).toBe(true);
  }, budgetMs(profile.fuzzRuns * 30));

  async function drained(reader: number): Promise<void> {
    let last = -1;
    await waitFor('reader drained', async () => {
      const s = await fetchStatus(site.httpPort, 3000);
      const r = s?.readers[reader];
      const n = r ? r.lines + r.dropped.overlong + r.dropped.garbage : -2;
      const stable = n === last;
      last = n;
      return stable ? true : undefined;
    }, 20_000, 400);
  }

  it('serial lines: random lines open nothing and change nothing', async () => {
    const lines = fc.sample(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.stringMatching(/^[0-9A-Fa-f:]{1,40}$/)), profile.fuzzRuns * 4)
      .map((l) => l.replace(/[\r\n]/g, ''))
      .filter((l) => l.trim() !== CARD && !l.includes(CARD));
    const before = stateWithReplayLog();
    const commands = site.commands.length;
    const audit = site.probe().maxAuditId();
    site.write(0, lines.join('\r\n') + '\r\n');
    await drained(0);
    expect(site.gateway!.alive()).toBe(true);
    expect(site.commands.length, 'doors opened by random lines').toBe(commands);
    expect(site.probe().auditAfter(audit).filter((r) => r.result !== 'denied')).toEqual([]);
    expect(stateWithReplayLog()).toBe(before);
  }, 60_000);

  it('QR payloads: the real token opens, no mutation of it or random payload does', async () => {
    const token = execFileSync(process.execPath, [CLI, 'qr', 'issue', EMAIL, '-c', site.configFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commands = site.commands.length;
    site.write(1, `${token}\r\n`);
    await waitFor('the issued token opens the door', () => (site.commands.length > commands ? true : undefined), 10_000);

    const mutated = fc.sample(
      fc.oneof(
        fc.tuple(fc.nat({ max: token.length - 1 }), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.')).map(([i, c]) => token.slice(0, i) + c + token.slice(i + 1)),
        fc.nat({ max: token.length - 1 }).map((i) => token.slice(0, i) + token.slice(i + 1)),
        fc.string({ unit: 'binary', maxLength: 300 }).map((s) => s.replace(/[\r\n]/g, '')),
        fc.stringMatching(/^[A-Z0-9]{2,10}(-[A-Z0-9]{2,10}){0,3}$/),
      ),
      profile.fuzzRuns * 2,
    ).filter((p) => p.trim() !== token);
    // The reader locks after a few bad tokens (brute-force guard), so the MAC is also checked
    // directly, with the gateway's own key, for every mutation.
    const key = Buffer.from(readFileSync(join(site.dir, 'data', 'qr-token.key'), 'utf8').trim(), 'hex');
    expect(verifyMemberToken(key, token, Date.now()).ok, 'the issued token verifies').toBe(true);
    expect(mutated.filter((m) => verifyMemberToken(key, m.trim(), Date.now()).ok), 'mutations that verify').toEqual([]);
    const before = stateWithReplayLog();
    const opened = site.commands.length;
    const audit = site.probe().maxAuditId();
    site.write(1, mutated.join('\r\n') + '\r\n');
    await drained(1);
    expect(site.gateway!.alive()).toBe(true);
    expect(site.commands.length, 'doors opened by altered or random QR payloads').toBe(opened);
    expect(site.probe().auditAfter(audit).filter((r) => r.result !== 'denied')).toEqual([]);
    expect(stateWithReplayLog()).toBe(before);
  }, 90_000);
});
