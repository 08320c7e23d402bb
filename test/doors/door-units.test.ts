import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AckTracker, type AckEvent } from '../../src/doors/ack-tracker.js';
import { DoorRelay } from '../../src/doors/door-relay.js';
import { DedupCache, RelayStateMachine } from '../../src/doors/firmware-logic.js';
import { buildClientOptions, NoReplayStore, redactUrl } from '../../src/doors/mqtt-options.js';
import { CommandIds, DoorAck, ProtocolError, PulseCommand, commandIdSchema, decodeJson, topics } from '../../src/doors/protocol.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { door, mqttConfig } from './fixtures.js';

describe('RelayStateMachine', () => {
  it('unlocks for pulseMs, extends to max(remaining, pulseMs), never shortens', () => {
    const relay = new RelayStateMachine();
    expect(relay.position(0)).toBe('locked');
    expect(relay.pulse(1000, 3000)).toBe(4000);
    expect(relay.pulse(2000, 500)).toBe(4000); // shorter pulse while unlocked: unchanged
    expect(relay.pulse(3000, 3000)).toBe(6000); // longer: extended
    expect(relay.position(5999)).toBe('unlocked');
    expect(relay.tick(6000)).toBe(true);
    expect(relay.position(6000)).toBe('locked');
    expect(relay.tick(7000)).toBe(false);
  });
});

describe('DedupCache', () => {
  it('forgets an id once its expiry has passed (the expiry check refuses it from then on)', () => {
    const cache = new DedupCache();
    cache.remember('abcdefgh', 1000, 0);
    expect(cache.has('abcdefgh', 1000)).toBe(true);
    expect(cache.has('abcdefgh', 1001)).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('when full, evicts the entry closest to expiry', () => {
    const cache = new DedupCache(2);
    cache.remember('first-id', 5000, 0);
    cache.remember('second-id', 9000, 0);
    cache.remember('third-id', 7000, 0);
    expect([cache.has('first-id', 0), cache.has('second-id', 0), cache.has('third-id', 0)]).toEqual([false, true, true]);
  });
});

describe('topics', () => {
  const t = topics('acme/lintel', 'hq');
  it('builds and parses door topics', () => {
    expect(t.cmd('front')).toBe('acme/lintel/hq/doors/front/cmd');
    expect(t.gatewayStatus).toBe('acme/lintel/hq/gateway/status');
    expect(t.allStates).toBe('acme/lintel/hq/doors/+/state');
    expect(t.parse('acme/lintel/hq/doors/front/ack')).toEqual({ doorId: 'front', kind: 'ack' });
    expect(t.parse('acme/lintel/hq/doors/front/ack/x')).toBeNull();
    expect(t.parse('acme/lintel/other/doors/front/ack')).toBeNull();
    expect(t.parse('acme/lintel/hq/doors/front/reboot')).toBeNull();
  });

  it('refuses wildcards and empty levels', () => {
    expect(() => topics('lintel/#', 'hq')).toThrow(ProtocolError);
    expect(() => topics('lintel//x', 'hq')).toThrow(ProtocolError);
    expect(() => topics('lintel', 'h/q')).toThrow(ProtocolError);
    expect(() => t.cmd('+')).toThrow(ProtocolError);
  });
});

describe('PulseCommand', () => {
  it('rounds message expiry up to whole seconds, at least 1', () => {
    expect(new PulseCommand('abcdefgh', 1, 3000, 0, 2000).messageExpiryIntervalSec()).toBe(2);
    expect(new PulseCommand('abcdefgh', 1, 3000, 0, 1500).messageExpiryIntervalSec()).toBe(2);
    expect(new PulseCommand('abcdefgh', 1, 3000, 0, 200).messageExpiryIntervalSec()).toBe(1);
  });

  it('serializes exactly as JSON.stringify of its fields would, and parses back to itself', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 100, max: 30_000 }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.integer({ min: 1, max: 60_000 }),
        (id, channel, pulseMs, issuedAt, ttl) => {
          const c = new PulseCommand(id, channel, pulseMs, issuedAt, issuedAt + ttl);
          const wire = c.serialize();
          expect(wire).toBe(JSON.stringify({ v: 1, type: 'pulse', id, channel, pulseMs, issuedAt, expiresAt: issuedAt + ttl }));
          expect(PulseCommand.parse(wire)).toEqual(c);
        },
      ),
    );
  });

  it('refuses payloads over 1024 bytes before parsing', () => {
    expect(() => decodeJson(Buffer.alloc(1025, 0x20))).toThrow(expect.objectContaining({ code: 'too-large' }));
  });
});

describe('CommandIds', () => {
  it('gives ids the protocol accepts, never the same twice, and differ between processes', () => {
    const a = new CommandIds(randomBytes(9).toString('base64url'));
    const b = new CommandIds(randomBytes(9).toString('base64url'));
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(a.next()).add(b.next());
    expect(seen.size).toBe(10_000);
    for (const id of seen) expect(commandIdSchema.safeParse(id).success).toBe(true);
    expect(() => new CommandIds('short')).toThrow(/prefix/);
  });
});

describe('buildClientOptions', () => {
  const files: Record<string, string> = { '/ca.pem': 'CA', '/cert.pem': 'CERT', '/key.pem': 'KEY', '/pw': 's3cret\n' };
  const readFile = (path: string): Buffer => Buffer.from(files[path] ?? '');
  const base = { siteId: 'hq', protocolVersion: 5 as const, will: { topic: 'w', payload: 'offline' }, reconnectPeriodMs: 1000, outgoingStore: new NoReplayStore(), readFile };

  it('reads TLS files and the password file, and never queues offline', () => {
    const cfg = { ...mqttConfig('mqtts://broker:8883'), username: 'gw', passwordFile: '/pw', clientId: 'gw-1', tls: { caFile: '/ca.pem', certFile: '/cert.pem', keyFile: '/key.pem', rejectUnauthorized: true } };
    const o = buildClientOptions({ ...base, mqtt: cfg });
    expect(o).toMatchObject({ username: 'gw', password: 's3cret', clientId: 'gw-1', clean: true, queueQoSZero: false, protocolVersion: 5, rejectUnauthorized: true });
    expect([String(o.ca), String(o.cert), String(o.key)]).toEqual(['CA', 'CERT', 'KEY']);
    expect(o.will).toMatchObject({ topic: 'w', qos: 1, retain: true });
  });

  it('prefers an explicitly resolved password, and generates distinct client ids', () => {
    const cfg = { ...mqttConfig('mqtt://b'), password: 'from-config' };
    expect(buildClientOptions({ ...base, mqtt: cfg, password: 'resolved' }).password).toBe('resolved');
    expect(buildClientOptions({ ...base, mqtt: cfg }).clientId).not.toBe(buildClientOptions({ ...base, mqtt: cfg }).clientId);
  });

  it('redacts credentials in URLs', () => {
    expect(redactUrl('mqtts://gw:s3cret@broker:8883')).toBe('mqtts://broker:8883');
    expect(redactUrl('not a url')).toBe('[unparseable url]');
  });
});

describe('AckTracker', () => {
  it('tells on-time, late and unknown acks apart', () => {
    const clock = new FakeClock();
    const tracker = new AckTracker(clock, silentLogger, 1000);
    const events: AckEvent[] = [];
    tracker.onAck((e) => events.push(e));
    tracker.expect('front', 'command-1');
    tracker.expect('front', 'command-2');
    clock.advance(200);
    tracker.received('front', new DoorAck('command-1', 'executed', clock.now()));
    clock.advance(1000);
    expect(tracker.counts()).toEqual({ acked: 1, missingAcks: 1, lateAcks: 0 });
    tracker.received('front', new DoorAck('command-2', 'expired', clock.now()));
    tracker.received('front', new DoorAck('someone-else', 'executed', clock.now()));
    tracker.received('back', new DoorAck('command-1', 'executed', clock.now()));
    expect(tracker.counts()).toEqual({ acked: 1, missingAcks: 1, lateAcks: 1 });
    expect(events.map((e) => [e.ack.id, e.latencyMs, e.late])).toEqual([['command-1', 200, false], ['command-2', null, true]]);
    expect(tracker.last('front')).toMatchObject({ commandId: 'command-2', result: 'expired', latencyMs: null });
    expect(tracker.pending('front')).toBe(0);
  });

  it('remembers per door when an unlock went unanswered, until that door acks again (door health)', () => {
    const clock = new FakeClock();
    const tracker = new AckTracker(clock, silentLogger, 1000);
    tracker.expect('front', 'c-1');
    tracker.expect('lab', 'c-2');
    tracker.received('lab', new DoorAck('c-2', 'executed', clock.now()));
    clock.advance(1250);
    const missedAt = tracker.missedSince('front');
    expect(missedAt).not.toBeNull();
    expect(missedAt!).toBeGreaterThan(clock.now() - 1250);
    expect(tracker.missedSince('lab')).toBeNull();
    // Another door's ack, or a stranger's ack at this door, says nothing of front's controller.
    tracker.expect('lab', 'c-3');
    tracker.received('lab', new DoorAck('c-3', 'executed', clock.now()));
    tracker.received('front', new DoorAck('not-ours', 'executed', clock.now()));
    expect(tracker.missedSince('front')).toBe(missedAt);
    // A later unlock answered on time: the controller is back.
    tracker.expect('front', 'c-4');
    tracker.received('front', new DoorAck('c-4', 'executed', clock.now()));
    expect(tracker.missedSince('front')).toBeNull();
  });
});

describe('DoorRelay without a connection', () => {
  const relay = new DoorRelay({ mqtt: mqttConfig('embedded'), siteId: 'hq', doors: [door('front')], clock: new FakeClock(), logger: silentLogger });

  it('refuses to pulse before start, and for unknown doors, without throwing', () => {
    expect(relay.pulse('front')).toEqual({ status: 'unreachable', commandId: null });
    expect(relay.pulse('nope')).toEqual({ status: 'unreachable', commandId: null });
    expect(relay.connected()).toBe(false);
    expect(relay.doorStatus()).toEqual([{ doorId: 'front', driver: 'lintel', reports: { acks: 'command-id', relay: true, contact: true }, online: null, relay: 'unknown', contact: 'unknown', stateAt: null, fw: null, lastAck: null, pendingAcks: 0, ackMissedAt: null }]);
  });

  it('needs the embedded broker url when mqtt.url is "embedded"', async () => {
    await expect(relay.start()).rejects.toThrow(/embedded/);
  });
});
