import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DOOR_DRIVERS } from '../../src/config/schema.js';
import { createDriver } from '../../src/doors/drivers/index.js';
import { pulseTimeFor } from '../../src/doors/drivers/tasmota.js';
import { ProtocolError } from '../../src/doors/protocol.js';
import { door } from './fixtures.js';

/* The drivers' payloads against the vendors' documented contracts (cited in each driver). */

const ctx = (over: Parameters<typeof door>[1]) => ({ door: door('front', over), prefix: 'lintel', siteId: 'hq', protocolVersion: 5 as const });
const buf = (s: string) => Buffer.from(s);

describe('tasmota PulseTime', () => {
  it('counts tenths up to 11.1 s and seconds + 100 above (113 = 13 s)', () => {
    expect(pulseTimeFor(100)).toBe(1);
    expect(pulseTimeFor(3000)).toBe(30);
    expect(pulseTimeFor(11_100)).toBe(111);
    expect(pulseTimeFor(13_000)).toBe(113);
    expect(pulseTimeFor(30_000)).toBe(130);
  });

  it('sends PulseTime then Power ON, at QoS 0, never retained, with message expiry', () => {
    const d = createDriver(ctx({ driver: 'tasmota', topic: 'tasmota_4A2F1C', relay: { channel: 2 }, pulseMs: 2500 }));
    const msgs = d.unlock('c-1', 0, 2000);
    expect(msgs.map((m) => [m.topic, m.payload])).toEqual([['cmnd/tasmota_4A2F1C/PulseTime2', '25'], ['cmnd/tasmota_4A2F1C/Power2', 'ON']]);
    for (const m of msgs) expect(m.options).toEqual({ qos: 0, retain: false, properties: { messageExpiryInterval: 2 } });
    expect(d.handle('stat/tasmota_4A2F1C/POWER2', buf('ON'), 0)).toEqual([{ kind: 'state', state: { online: true, relay: 'unlocked' } }, { kind: 'confirmed' }]);
    expect(d.handle('stat/tasmota_4A2F1C/RESULT', buf('{"PulseTime2":{"Set":25,"Remaining":0}}'), 0)).toEqual([]);
    expect(() => d.handle('stat/tasmota_4A2F1C/POWER2', buf('MAYBE'), 0)).toThrow(ProtocolError);
  });
});

describe('shelly-gen2', () => {
  const d = createDriver(ctx({ driver: 'shelly-gen2', topic: 'shellyplus1-a8032ab12345', pulseMs: 500 }));

  it('sends Switch.Set with toggle_after in seconds, replies coming back to its own src', () => {
    const [m] = d.unlock('c-1', 0, 2000);
    expect(m?.topic).toBe('shellyplus1-a8032ab12345/rpc');
    expect(JSON.parse(m!.payload)).toEqual({ id: 'c-1', src: 'lintel/hq/doors/front/shelly', method: 'Switch.Set', params: { id: 0, on: true, toggle_after: 0.5 } });
    expect(d.topics).toContain('lintel/hq/doors/front/shelly/rpc');
  });

  it('reads the RPC response as an ack by id, an error as rejected, NotifyStatus as the relay', () => {
    const [ok] = d.handle('lintel/hq/doors/front/shelly/rpc', buf('{"id":"c-1","src":"x","dst":"y","result":{"was_on":false}}'), 5);
    expect(ok).toMatchObject({ kind: 'ack', ack: { id: 'c-1', result: 'executed' } });
    const [bad] = d.handle('lintel/hq/doors/front/shelly/rpc', buf('{"id":"c-2","error":{"code":-103,"message":"bad"}}'), 5);
    expect(bad).toMatchObject({ kind: 'ack', ack: { id: 'c-2', result: 'rejected', reason: 'shelly error -103: bad' } });
    const ntf = '{"src":"x","method":"NotifyStatus","params":{"ts":1,"switch:0":{"id":0,"output":true}}}';
    expect(d.handle('shellyplus1-a8032ab12345/events/rpc', buf(ntf), 5)).toEqual([{ kind: 'state', state: { online: true, relay: 'unlocked' } }]);
    expect(d.handle('shellyplus1-a8032ab12345/online', buf('false'), 5)).toEqual([{ kind: 'state', state: { online: false } }]);
    expect(() => d.handle('shellyplus1-a8032ab12345/events/rpc', buf('{'), 5)).toThrow(ProtocolError);
  });
});

describe('zigbee2mqtt', () => {
  it('sends state ON with on_time, addresses a second endpoint as state_l2, reads both availability forms', () => {
    const d = createDriver(ctx({ driver: 'zigbee2mqtt', topic: 'zigbee2mqtt/front-door', relay: { channel: 2 }, pulseMs: 3000 }));
    expect(d.unlock('c', 0, 2000).map((m) => [m.topic, m.payload])).toEqual([['zigbee2mqtt/front-door/set', '{"state_l2":"ON","on_time":3}']]);
    expect(d.relock()?.[0]?.payload).toBe('{"state_l2":"OFF"}');
    expect(d.handle('zigbee2mqtt/front-door', buf('{"state_l2":"OFF","linkquality":80}'), 0)).toEqual([{ kind: 'state', state: { relay: 'locked' } }]);
    expect(d.handle('zigbee2mqtt/front-door/availability', buf('{"state":"offline"}'), 0)).toEqual([{ kind: 'state', state: { online: false } }]);
    expect(d.handle('zigbee2mqtt/front-door/availability', buf('online'), 0)).toEqual([{ kind: 'state', state: { online: true } }]);
  });
});

describe('driver behaviour', () => {
  it('arms the stuck-on backstop only where the driver has an OFF to send', () => {
    for (const driver of DOOR_DRIVERS) {
      const d = createDriver(ctx(driver === 'lintel' ? {} : { driver, topic: 'dev/switch/door' }));
      if (d.behaviour.relockBackstop) expect(d.relock(), driver).not.toBeNull();
      if (d.behaviour.pulseEnd === 'gateway') expect(d.relock(), driver).not.toBeNull();
    }
    expect(createDriver(ctx({})).behaviour).toMatchObject({ state: 'whole', relockBackstop: false });
  });
});

describe('esphome', () => {
  const d = createDriver(ctx({ driver: 'esphome', topic: 'door-node/switch/door_strike', pulseMs: 2000 }));

  it('sends ON and OFF on the switch command topic, QoS 0, never retained, with message expiry', () => {
    expect(d.unlock('c-1', 0, 2000)).toEqual([{ topic: 'door-node/switch/door_strike/command', payload: 'ON', options: { qos: 0, retain: false, properties: { messageExpiryInterval: 2 } } }]);
    expect(d.relock()?.map((m) => [m.topic, m.payload])).toEqual([['door-node/switch/door_strike/command', 'OFF']]);
    expect(d.topics).toEqual(['door-node/switch/door_strike/state', 'door-node/status']);
  });

  it('reads state ON as unlocked plus an inferred ack, availability online/offline, and refuses other words', () => {
    expect(d.handle('door-node/switch/door_strike/state', buf('ON'), 0)).toEqual([{ kind: 'state', state: { relay: 'unlocked' } }, { kind: 'confirmed' }]);
    expect(d.handle('door-node/switch/door_strike/state', buf('OFF'), 0)).toEqual([{ kind: 'state', state: { relay: 'locked' } }]);
    expect(d.handle('door-node/status', buf('offline'), 0)).toEqual([{ kind: 'state', state: { online: false } }]);
    expect(() => d.handle('door-node/status', buf('gone'), 0)).toThrow(ProtocolError);
    expect(() => d.handle('door-node/switch/door_strike/state', buf('on-ish'), 0)).toThrow(ProtocolError);
  });

  it('has no timer of its own: the gateway ends the pulse and refuses while the device is offline', () => {
    expect(d.behaviour).toEqual({ state: 'fields', relayKnownOffline: false, pulseEnd: 'gateway', relockBackstop: true, refuseWhileOffline: true });
  });

  it('config: the topic must name a switch, and channel is 1', () => {
    const site = (door: object) => () => parseConfig({ site: { id: 'hq' }, doors: [{ id: 'front', driver: 'esphome', ...door }] });
    expect(site({ topic: 'door-node/switch/door_strike' })).not.toThrow();
    expect(site({ topic: 'door-node' })).toThrow(/<topic_prefix>\/switch\/<object_id>/);
    expect(site({ topic: 'door-node/switch/door_strike', relay: { channel: 2 } })).toThrow(/channel must be 1/);
  });
});

describe('MQTT 5 message expiry from what is left of the command lifetime', () => {
  it('every driver sets the broker expiry from leftMs, rounded up to whole seconds, never from the whole lifetime', () => {
    const cases = [
      { driver: 'lintel' as const },
      { driver: 'shelly-gen2' as const, topic: 'shellyplus1-a8032ab12345' },
      { driver: 'tasmota' as const, topic: 'tasmota_4A2F1C' },
      { driver: 'zigbee2mqtt' as const, topic: 'zigbee2mqtt/front-door' },
      { driver: 'esphome' as const, topic: 'door-node/switch/door_strike' },
    ];
    for (const c of cases) {
      const d = createDriver(ctx({ ...c, commandTtlMs: 5000 }));
      const expiry = (leftMs: number) => d.unlock('c-1', 0, leftMs).map((m) => m.options.properties?.messageExpiryInterval);
      expect(expiry(5000).every((e) => e === 5), c.driver).toBe(true);
      expect(expiry(1200).every((e) => e === 2), c.driver).toBe(true); // a visitor read answered 3.8 s after it
      expect(expiry(300).every((e) => e === 1), c.driver).toBe(true);
    }
  });

  it('the lintel command still expires at the read time plus the lifetime', () => {
    const d = createDriver(ctx({ driver: 'lintel', commandTtlMs: 2000 }));
    const [m] = d.unlock('abcdefgh', 10_000, 500);
    expect(JSON.parse(m!.payload)).toMatchObject({ issuedAt: 10_000, expiresAt: 12_000 });
    expect(m!.options.properties?.messageExpiryInterval).toBe(1);
  });
});
