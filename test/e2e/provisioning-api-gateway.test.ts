import { afterEach, describe, expect, it } from 'vitest';
import { createToken } from '../../src/store/api-tokens.js';
import { startGatewayRig, swipeReason } from '../helpers/gateway-rig.js';
import { until } from '../helpers/lintel-process.js';

/*
 * From a fresh database to a door opening, through the provisioning API alone: a real HTTP
 * socket on loopback, a real broker, a simulated door board on it. The person is created
 * pending (no card: the badge is refused), the card arrives by PUT, the next badge opens.
 */

const reader = { id: 'desk', kind: 'stdin', door: 'front', payload: 'card', cardFormat: 'decimal', maxLineLength: 256, direction: 'in' } as const;

describe('provisioning API, end to end', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('a platform creates a person and gives them a card over HTTP, and their badge opens the door', async () => {
    const { gateway, doors: [door], base } = await startGatewayRig(cleanups, 'api', {
      doors: [{ id: 'front' }],
      readers: [reader],
      zones: { lobby: { doors: ['front'] } },
      accessGroups: { members: { zones: [{ zone: 'lobby' }] } },
    }, ['front']);
    const pulses: unknown[] = [];
    door!.on('pulse', (p) => pulses.push(p));
    await until('relay up', () => gateway.relay.connected());

    // What `lintel token create --scope write` does on the same database.
    const { token } = createToken(gateway.store, { scope: 'write', name: 'platform' }, Date.now(), 'test');
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${base}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const swipe = (card: string) => swipeReason(gateway, reader, card);

    const made = await api('PUT', '/people/ana@example.com', { name: 'Ana', groups: ['members'] });
    expect(made.status).toBe(201);
    expect(((await made.json()) as { pending: boolean }).pending).toBe(true);
    expect(await swipe('7340861')).toBe('unknown_credential');

    const carded = await api('PUT', '/people/ana@example.com/cards/7340861', {});
    expect(carded.status).toBe(201);
    expect(await swipe('7340861')).toBe('granted');
    await until('door pulsed', () => pulses.length === 1);

    const lost = await api('PUT', '/people/ana@example.com/cards/7340861', { state: 'lost' });
    expect(lost.status).toBe(200);
    expect(await swipe('7340861')).not.toBe('granted');
    expect(pulses).toHaveLength(1);

    // Nothing answers without a token.
    expect((await fetch(`${base}/api/v1/people`)).status).toBe(401);
  }, 30_000);

  it('a reload that adds a group makes it usable at the next API request (the API runs on its own thread)', async () => {
    const { gateway, config, base } = await startGatewayRig(cleanups, 'api-reload', {
      doors: [{ id: 'front' }],
      zones: { lobby: { doors: ['front'] } },
      accessGroups: { members: { zones: [{ zone: 'lobby' }] } },
    }, ['front']);
    const { token } = createToken(gateway.store, { scope: 'write', name: 'platform' }, Date.now(), 'test');
    const put = () =>
      fetch(`${base}/api/v1/people/bo@example.com`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Bo', groups: ['lab'] }),
      });

    const before = await put();
    expect(before.status).toBe(422);
    expect(await before.json()).toMatchObject({ error: { code: 'unknown_group', field: 'body.groups' } });
    await gateway.reload({ ...config, accessGroups: { ...config.accessGroups, lab: config.accessGroups.members! } });
    const after = await put();
    expect(after.status).toBe(201);
    expect(await after.json()).toMatchObject({ groups: [{ group: 'lab' }] });
  }, 30_000);
});
