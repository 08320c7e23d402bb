import { afterEach, describe, expect, it } from 'vitest';
import { startGatewayRig, swipeReason } from '../helpers/gateway-rig.js';
import { tableHashes } from '../helpers/v1-api.js';
import { until } from '../helpers/lintel-process.js';

/*
 * The operator's actions through the operator API (POST /api/actions/<action>) on a real
 * gateway: a real HTTP socket, Mosquitto and a simulated door board. Every action goes through
 * the one OperatorActions the console and MQTT use; each leaves a change_audit row naming who.
 */

const reader = { id: 'desk', kind: 'stdin', door: 'front', payload: 'card', cardFormat: 'decimal', maxLineLength: 256, direction: 'in' } as const;
const TOKEN = 'operator-token-for-the-actions-test';

describe('operator actions, end to end', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function site() {
    const { gateway, doors: [door], base } = await startGatewayRig(cleanups, 'ops', {
      http: { authToken: TOKEN },
      doors: [{ id: 'front' }],
      readers: [reader],
      zones: { lobby: { doors: ['front'] } },
      accessGroups: { members: { zones: [{ zone: 'lobby' }] } },
    }, ['front']);
    const pulses: unknown[] = [];
    door!.on('pulse', (p) => pulses.push(p));
    await until('relay up', () => gateway.relay.connected());
    const call = (method: string, path: string, body?: unknown, token: string | null = TOKEN) =>
      fetch(`${base}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    const act = async (action: string, body: Record<string, unknown> = {}) => {
      const res = await call('POST', `/api/actions/${action}`, body);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const swipe = (card: string) => swipeReason(gateway, reader, card);
    const audit = () => gateway.store.db.prepare('SELECT actor, action, target FROM change_audit ORDER BY id').all() as Array<{ actor: string; action: string; target: string }>;
    expect((await call('PUT', '/api/v1/people/ana@example.com', { name: 'Ana', groups: ['members'] })).status).toBe(201);
    expect((await call('PUT', '/api/v1/people/ana@example.com/cards/7340861', {})).status).toBe(201);
    return { gateway, door: door!, pulses, call, act, swipe, audit };
  }

  it('pulses, locks down, suspends and disables, each audited with who did it', async () => {
    const { pulses, act, swipe, audit } = await site();
    expect(await swipe('7340861')).toBe('granted');
    await until('badge pulse', () => pulses.length === 1);

    expect((await act('door.pulse', { door: 'front' })).status).toBe(200);
    await until('operator pulse', () => pulses.length === 2);
    expect(audit().at(-1)).toEqual({ actor: 'api:token', action: 'door.pulse', target: 'front' });

    expect((await act('lockdown.set', { on: true })).body).toMatchObject({ ok: true, detail: { on: true, changed: true } });
    expect(await swipe('7340861')).toBe('lockdown');
    // Lockdown shuts every door: an operator pulse would open what it closed.
    expect((await act('door.pulse', { door: 'front' })).status).toBe(409);
    expect((await act('door.hold', { door: 'front', minutes: 5 })).status).toBe(409);
    expect((await act('lockdown.set', { on: false })).status).toBe(200);
    expect(await swipe('7340861')).toBe('granted');

    expect((await act('person.suspend', { email: 'ana@example.com' })).status).toBe(200);
    expect(await swipe('7340861')).toBe('person_suspended');
    expect((await act('person.reinstate', { email: 'ana@example.com' })).status).toBe(200);
    expect(await swipe('7340861')).toBe('granted');

    // By the end of the number, as an operator reads it off a masked list.
    expect((await act('card.disable', { email: 'ana@example.com', card: '0861' })).body).toMatchObject({ ok: true, detail: { changed: true } });
    expect(await swipe('7340861')).toBe('credential_disabled');

    const actions = audit().filter((r) => r.actor === 'api:token').map((r) => r.action);
    expect(actions).toEqual(['door.pulse', 'lockdown.on', 'lockdown.off', 'person.suspend', 'person.reinstate', 'card.disabled']);
    // Natural keys and masked numbers only.
    expect(JSON.stringify(audit())).not.toContain('7340861');
  }, 40_000);

  it('learn mode captures the next card at the armed reader, opens nothing, and assigns it in one step', async () => {
    const { gateway, pulses, act, swipe, audit } = await site();
    const armed = act('reader.learn', { reader: 'desk' });
    // The request waits for the card: present it once the reader is armed.
    await until('reader armed', () => gateway.learn.active);
    expect(await swipe('5551234')).toBe('learn_mode');
    const learned = await armed;
    expect(learned.status).toBe(200);
    expect(learned.body).toMatchObject({ ok: true, detail: { card: '5551234', reader: 'desk' } });
    expect(pulses).toHaveLength(0);
    // Once captured, the reader reads normally again.
    expect(await swipe('5551234')).toBe('unknown_credential');

    const learn = (learned.body.detail as { learn: string }).learn;
    expect((await act('learned.assign', { learn, email: 'ana@example.com' })).status).toBe(200);
    expect(await swipe('5551234')).toBe('granted');
    // A capture is assigned once.
    expect((await act('learned.assign', { learn, email: 'ana@example.com' })).status).toBe(404);
    expect(audit().filter((r) => r.action === 'reader.learn')).toEqual([{ actor: 'api:token', action: 'reader.learn', target: 'desk *****34' }]);
  }, 40_000);

  it('an alarm is acknowledged through the action, once, with who did it', async () => {
    const { gateway, door, act, audit } = await site();
    await until('door state', () => gateway.relay.doorStatus()[0]?.contact === 'closed');
    door.simulateOpen();
    await until('forced-open alarm', () => gateway.alarms.active().length === 1);
    const alarm = gateway.alarms.active()[0]!;
    expect(alarm.kind).toBe('forced_open');
    expect((await act('alarm.acknowledge', { alarm: alarm.id })).body).toMatchObject({ ok: true, detail: { alarm: alarm.id } });
    expect(gateway.alarms.active()[0]).toMatchObject({ acknowledgedBy: 'api:token' });
    expect(audit().filter((r) => r.action === 'alarm.acknowledge')).toEqual([{ actor: 'api:token', action: 'alarm.acknowledge', target: alarm.id }]);
  }, 40_000);

  it('refuses without auth and on bad input, and changes nothing', async () => {
    const { gateway, call, act } = await site();
    const before = tableHashes(gateway.store.db);
    expect((await call('POST', '/api/actions/door.pulse', { door: 'front' }, null)).status).toBe(401);
    expect((await call('POST', '/api/actions/door.pulse', { door: 'front' }, 'wrong')).status).toBe(401);
    expect((await act('door.explode', { door: 'front' })).status).toBe(400);
    expect((await act('door.pulse', { door: 'front', extra: 1 })).status).toBe(400);
    expect((await act('door.pulse', { door: 'back' })).status).toBe(404);
    expect((await act('person.suspend', { email: 'nobody@example.com' })).status).toBe(404);
    expect((await act('card.disable', { email: 'ana@example.com', card: '9999' })).status).toBe(404);
    expect((await act('upstream.reconcile')).status).toBe(409);
    expect((await act('antipassback.forgive', { email: 'ana@example.com' })).status).toBe(409);
    expect((await act('alarm.acknowledge', { alarm: 'front:forced_open:1' })).status).toBe(404);
    expect((await call('POST', '/api/actions/door.pulse', '{not json')).status).toBe(400);
    expect(tableHashes(gateway.store.db)).toEqual(before);
  }, 40_000);
});
