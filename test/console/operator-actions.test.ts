import { afterEach, describe, expect, it } from 'vitest';
import { directWrites } from '../../src/api/v1/write-ops.js';
import type { Action } from '../../src/console/actions.js';
import { ConsoleActions, type OperatorActionDeps } from '../../src/console/operator-actions.js';
import type { Actor } from '../../src/console/operator.js';
import { LearnMode } from '../../src/readers/learn-mode.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { OtherProcess } from '../helpers/lock-holder.js';
import { testStore } from '../helpers/store.js';
import { tableHashes } from '../helpers/v1-api.js';

/*
 * The one use case behind every channel, on a real SQLite file: the role table is enforced
 * before anything happens, the act comes before its audit row, and an audit row that cannot be
 * written (another program holds the lock) is counted, never allowed to undo or hide the act.
 */

const alice: Actor = { name: 'alice', role: 'operator', via: 'console' };
const viewer: Actor = { name: 'val', role: 'viewer', via: 'console' };
const admin: Actor = { name: 'root', role: 'admin', via: 'console' };

describe('ConsoleActions', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function actions() {
    const { store, close } = testStore(['front']);
    cleanups.push(close);
    const clock = new FakeClock();
    const pulsed: string[] = [];
    const failures: string[] = [];
    const learn = new LearnMode(clock);
    const deps: OperatorActionDeps = {
      clock,
      logger: silentLogger,
      writes: directWrites(store),
      doors: {
        pulse: (door) => (door === 'front' ? (pulsed.push(door), { status: 'sent', commandId: `c${pulsed.length}` }) : 'unknown_door'),
        hold: () => ({ status: 'not_running' }),
        release: () => ({ status: 'not_held' }),
      },
      lockedDown: () => false,
      forgive: () => 'off',
      reconcile: null,
      alarms: () => null,
      learn,
      readerKnown: (r) => r === 'desk',
      countFailure: (task) => failures.push(task),
    };
    const run = (actor: Actor, action: Action) => new ConsoleActions(deps).run(actor, action);
    const audit = () => store.db.prepare('SELECT actor, action, target FROM change_audit ORDER BY id').all();
    return { store, clock, pulsed, failures, learn, run, audit };
  }

  it('refuses a role below the table before acting, and writes nothing', async () => {
    const { store, pulsed, run } = actions();
    const before = tableHashes(store.db);
    expect(await run(viewer, { action: 'door.pulse', door: 'front' })).toMatchObject({ ok: false, code: 'forbidden_role', status: 403 });
    expect(await run(alice, { action: 'reader.learn', reader: 'desk' })).toMatchObject({ ok: false, code: 'forbidden_role' });
    expect(await run(viewer, { action: 'lockdown.set', on: true })).toMatchObject({ ok: false, code: 'forbidden_role' });
    expect(await run(admin, { action: 'reader.learn', reader: 'ghost' })).toMatchObject({ ok: false, code: 'not_found' });
    // A full card number must not go out on a broker topic, whatever role MQTT commands are given.
    expect(await run({ ...admin, via: 'mqtt' }, { action: 'reader.learn', reader: 'desk' })).toMatchObject({ ok: false, code: 'forbidden_role' });
    expect(pulsed).toEqual([]);
    expect(tableHashes(store.db)).toEqual(before);
  });

  it('acts, then audits with the actor and channel', async () => {
    const { pulsed, run, audit } = actions();
    expect(await run(alice, { action: 'door.pulse', door: 'front' })).toMatchObject({ ok: true, action: 'door.pulse' });
    expect(await run({ ...alice, via: 'mqtt' }, { action: 'lockdown.set', on: true })).toMatchObject({ ok: true, detail: { changed: true } });
    expect(pulsed).toEqual(['front']);
    expect(audit()).toEqual([
      { actor: 'console:alice', action: 'door.pulse', target: 'front' },
      { actor: 'mqtt:alice', action: 'lockdown.on', target: 'site' },
    ]);
  });

  it('a held write lock does not stop the door: the pulse goes, the lost audit row is counted', async () => {
    const { store, pulsed, failures, run, audit } = actions();
    const other = new OtherProcess(store.db.name);
    cleanups.push(() => other.close());
    // Waiting out the lock is the writer thread's business; here it is refused at once.
    store.db.pragma('busy_timeout = 50');
    await other.lock();
    expect(await run(alice, { action: 'door.pulse', door: 'front' })).toMatchObject({ ok: true });
    expect(pulsed).toEqual(['front']);
    expect(failures).toEqual(['action-audit']);
    // A store-backed action under the same lock is refused as busy, and changes nothing.
    expect(await run(alice, { action: 'lockdown.set', on: true })).toMatchObject({ ok: false, code: 'unavailable', status: 503 });
    await other.release();
    expect(audit()).toEqual([]);
  });
});

describe('LearnMode', () => {
  it('an armed reader waits a bounded time, the latest arm wins, and a capture is its admin\'s once', async () => {
    const clock = new FakeClock();
    const learn = new LearnMode(clock);
    const first = learn.arm('desk', 'console:root');
    const second = learn.arm('desk', 'console:ada');
    expect(await first.card).toBeNull();
    expect(learn.take('other', '123', 'decimal', clock.now())).toBe(false);
    expect(learn.take('desk', '5551234', 'decimal', clock.now())).toBe(true);
    expect(learn.active).toBe(false);
    expect(await second.card).toMatchObject({ id: second.id, number: '5551234', by: 'console:ada' });
    expect(learn.claim(second.id, 'console:root')).toBe('not_yours');
    expect(learn.claim(second.id, 'console:ada')).toMatchObject({ number: '5551234' });
    expect(learn.claim(second.id, 'console:ada')).toBe('not_found');

    const timedOut = learn.arm('desk', 'console:root', 1_000);
    clock.advance(1_000);
    expect(await timedOut.card).toBeNull();
    expect(learn.take('desk', '5551234', 'decimal', clock.now())).toBe(false);

    const kept = learn.arm('desk', 'console:root');
    learn.take('desk', '42424242', 'decimal', clock.now());
    clock.advance(10 * 60_000 + 1);
    expect(learn.claim(kept.id, 'console:root')).toBe('not_found');
  });
});
