import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ACTION_NAMES, ActionSchema, type Action, type ActionResult, type OperatorActions } from '../../src/console/actions.js';
import type { Actor } from '../../src/console/operator.js';
import { CommandBridge, MAX_IN_FLIGHT, parseRequest } from '../../src/events/command-bridge.js';
import { eventTopics } from '../../src/events/event-payloads.js';
import { silentLogger } from '../../src/util/log.js';
import { schemaJson, violations } from './schemas.js';

/* Operator commands over MQTT without a broker: parsing, refusals, the answer and its schema. */

/** Records every call and answers as told; `hold` keeps calls pending until released. */
class RecordingActions implements OperatorActions {
  readonly calls: Array<{ actor: Actor; action: Action }> = [];
  private readonly waiting: Array<() => void> = [];
  hold = false;
  answer: (a: Action) => ActionResult = (a) => ({ ok: true, action: a.action, message: 'done', detail: { door: 'front' } });

  run(actor: Actor, action: Action): Promise<ActionResult> {
    this.calls.push({ actor, action });
    if (!this.hold) return Promise.resolve(this.answer(action));
    return new Promise((resolve) => this.waiting.push(() => resolve(this.answer(action))));
  }

  release(): void {
    for (const fn of this.waiting.splice(0)) fn();
  }
}

function setup(actions: OperatorActions | null = new RecordingActions()) {
  const sent: Array<{ topic: string; body: Record<string, unknown> }> = [];
  const failures: string[] = [];
  const bridge = new CommandBridge({
    topics: eventTopics('lintel/hq'),
    sink: { publish: (topic, payload) => { sent.push({ topic, body: JSON.parse(payload) as Record<string, unknown> }); return true; } },
    actor: () => ({ name: 'mqtt', role: 'operator', via: 'mqtt' }),
    actions: () => actions,
    logger: silentLogger,
    failed: (task) => failures.push(task),
  });
  const settled = () => new Promise((r) => setTimeout(r, 0));
  return { bridge, sent, failures, settled };
}

describe('command bridge', () => {
  it('runs a valid request through OperatorActions as the configured actor and answers with its transaction', async () => {
    const actions = new RecordingActions();
    const { bridge, sent, settled } = setup(actions);
    bridge.request('door.pulse', Buffer.from('{"door":"front","transaction":"t-1"}'));
    await settled();
    expect(actions.calls).toEqual([{ actor: { name: 'mqtt', role: 'operator', via: 'mqtt' }, action: { action: 'door.pulse', door: 'front' } }]);
    expect(sent).toEqual([{ topic: 'lintel/hq/bridge/response/door.pulse', body: { status: 'ok', data: { message: 'done', door: 'front' }, transaction: 't-1' } }]);
    expect(violations('bridge-response', sent[0]!.body)).toEqual([]);
  });

  it('answers a refusal by OperatorActions with its code, and an empty payload reads as {}', async () => {
    const actions = new RecordingActions();
    actions.answer = () => ({ ok: false, code: 'forbidden_role', message: 'needs operator', status: 403 });
    const { bridge, sent, settled } = setup(actions);
    bridge.request('upstream.reconcile', Buffer.alloc(0));
    await settled();
    expect(actions.calls.map((c) => c.action)).toEqual([{ action: 'upstream.reconcile' }]);
    expect(sent[0]).toEqual({ topic: 'lintel/hq/bridge/response/upstream.reconcile', body: { status: 'error', error: { code: 'forbidden_role', message: 'needs operator' } } });
    expect(violations('bridge-response', sent[0]!.body)).toEqual([]);
  });

  it.each([
    ['malformed JSON', 'door.pulse', '{"door":', 'invalid'],
    ['not an object', 'door.pulse', '[1,2]', 'invalid'],
    ['a missing field', 'door.pulse', '{"transaction":"x"}', 'invalid'],
    ['an unknown field', 'door.pulse', '{"door":"front","force":true}', 'invalid'],
    ['a bad field', 'door.hold', '{"door":"front","minutes":0}', 'invalid'],
    ['a bad transaction', 'door.pulse', '{"door":"front","transaction":7}', 'invalid'],
    ['an oversized payload', 'door.pulse', `{"door":"${'a'.repeat(2000)}"}`, 'invalid'],
    ['an unknown action', 'door.explode', '{"door":"front"}', 'unknown_action'],
  ])('refuses %s with an error answer and does nothing', async (_what, action, payload, code) => {
    const actions = new RecordingActions();
    const { bridge, sent, settled } = setup(actions);
    bridge.request(action, Buffer.from(payload));
    await settled();
    expect(actions.calls).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe(`lintel/hq/bridge/response/${action}`);
    expect(sent[0]!.body).toMatchObject({ status: 'error', error: { code } });
    expect(violations('bridge-response', sent[0]!.body)).toEqual([]);
  });

  it('answers unavailable while no OperatorActions are wired', async () => {
    const { bridge, sent, settled } = setup(null);
    bridge.request('door.pulse', Buffer.from('{"door":"front"}'));
    await settled();
    expect(sent[0]!.body).toMatchObject({ status: 'error', error: { code: 'unavailable' } });
  });

  it('refuses past MAX_IN_FLIGHT running requests instead of piling them up', async () => {
    const actions = new RecordingActions();
    actions.hold = true;
    const { bridge, sent, settled } = setup(actions);
    for (let i = 0; i <= MAX_IN_FLIGHT; i++) bridge.request('door.pulse', Buffer.from(`{"door":"front","transaction":"t${i}"}`));
    await settled();
    expect(actions.calls).toHaveLength(MAX_IN_FLIGHT);
    expect(sent).toEqual([{ topic: 'lintel/hq/bridge/response/door.pulse', body: { status: 'error', error: { code: 'unavailable', message: expect.stringContaining('busy') as unknown }, transaction: `t${MAX_IN_FLIGHT}` } }]);
    actions.release();
    await settled();
    expect(sent).toHaveLength(MAX_IN_FLIGHT + 1);
    bridge.request('door.pulse', Buffer.from('{"door":"front"}'));
    await settled();
    expect(actions.calls).toHaveLength(MAX_IN_FLIGHT + 1); // room again once they answered
  });

  it('answers even when OperatorActions breaks its promise never to throw, and counts it', async () => {
    const throwing: OperatorActions = { run: () => { throw new Error('boom'); } };
    const { bridge, sent, failures, settled } = setup(throwing);
    bridge.request('door.pulse', Buffer.from('{"door":"front"}'));
    await settled();
    expect(sent[0]!.body).toMatchObject({ status: 'error', error: { code: 'unavailable' } });
    expect(failures).toEqual(['mqtt-command']);
  });

  it('a request the gateway accepts conforms to the request schema, and the schema is ActionSchema', () => {
    const payload = { door: 'front', minutes: 30, transaction: 'abc' };
    expect(parseRequest('door.hold', JSON.stringify(payload))).toMatchObject({ ok: true });
    expect(violations('bridge-request', payload, 'door.hold')).toEqual([]);
    expect(violations('bridge-request', { door: 'front', minutes: 0 }, 'door.hold')).not.toEqual([]);
    // The file was generated from ActionSchema: it must still say what ActionSchema says.
    const defs = schemaJson('bridge-request').$defs as Record<string, Record<string, unknown>>;
    expect(Object.keys(defs).filter((k) => k !== 'transaction').sort()).toEqual([...ACTION_NAMES].sort());
    for (const option of ActionSchema.options) {
      const generated = z.toJSONSchema(option, { io: 'input', target: 'draft-2020-12' }) as { properties: Record<string, Record<string, unknown>>; required?: string[] };
      const def = defs[option.shape.action.value]!;
      const { action: _action, ...fields } = generated.properties;
      for (const f of Object.values(fields)) delete f.format; // the pattern says it; no format vocabulary needed
      expect(def.properties).toEqual({ transaction: { $ref: '#/$defs/transaction' }, ...fields });
      expect(def.required ?? []).toEqual((generated.required ?? []).filter((r) => r !== 'action'));
    }
  });
});
