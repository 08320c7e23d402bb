import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cardFromKeyParts, cardKeyParts } from '../../src/access/card-keys.js';
import { CardTable } from '../../src/access/card-table.js';
import { RecordPool } from '../../src/access/record-pool.js';

/** Card strings of every kind the table must keep apart: short decimals, edge lengths, non-canonical. */
const cardString = fc.oneof(
  fc.integer({ min: 0, max: 300 }).map(String), // a small population: many probes collide
  fc.constantFrom('0', '00', '007', '7', '999999999999999', '1000000000000000', '9007199254740993', '4294967296', '18446744073709551615', '18446744073709551616'),
  fc.stringMatching(/^[0-9]{1,20}$/),
  fc.string({ maxLength: 6 }),
);

type Op = { kind: 'set'; card: string; value: number } | { kind: 'delete'; card: string };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), card: cardString, value: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
  fc.record({ kind: fc.constant('delete' as const), card: cardString }),
);

describe('card keys', () => {
  it('takes exactly the canonical decimals below 2^64, as two 32-bit halves', () => {
    expect(cardKeyParts('0')).toEqual([0, 0]);
    expect(cardKeyParts('7340861')).toEqual([7340861, 0]);
    expect(cardKeyParts('4294967296')).toEqual([0, 1]);
    expect(cardKeyParts('72057594037927935')).toEqual([0xffffffff, 0x00ffffff]); // a 7-byte UID, all ones
    expect(cardKeyParts('18446744073709551615')).toEqual([0xffffffff, 0xffffffff]);
    for (const other of ['', '07', '00', '18446744073709551616', '99999999999999999999', '123456789012345678901', '12a', ' 1', '-1', '1.5', '１'])
      expect(cardKeyParts(other), other).toBeNull();
  });

  it('round-trip exactly for every canonical decimal up to 20 digits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9][0-9]{0,19}$/), (s) => {
        const parts = cardKeyParts(s);
        if (BigInt(s) >= 2n ** 64n) return expect(parts).toBeNull();
        expect(parts).not.toBeNull();
        const [lo, hi] = parts!;
        expect((BigInt(hi) << 32n) | BigInt(lo)).toBe(BigInt(s));
        expect(cardFromKeyParts(lo, hi)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});

/** One operation on the table and on its Map model alike; a delete must agree on its answer. */
function applyBoth(table: CardTable, model: Map<string, number>, o: Op): void {
  if (o.kind === 'set') {
    table.set(o.card, o.value);
    model.set(o.card, o.value);
  } else {
    expect(table.delete(o.card)).toBe(model.delete(o.card));
  }
}

describe('CardTable', () => {
  it('answers like a Map<string, number> after any sequence of sets and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), fc.integer(), (ops, seed) => {
        const table = new CardTable(seed);
        const model = new Map<string, number>();
        for (const o of ops) applyBoth(table, model, o);
        expect(table.size).toBe(model.size);
        for (const [card, value] of model) expect(table.get(card)).toBe(value);
        for (const o of ops) if (!model.has(o.card)) expect(table.get(o.card)).toBe(-1);
      }),
      { numRuns: 300 },
    );
  });

  it('answers like a Map after every single operation, also while a growth is being migrated', () => {
    const smallKeys = fc.integer({ min: 0, max: 300 }).map(String);
    const step = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), card: smallKeys, value: fc.nat({ max: 1000 }) }),
      fc.record({ kind: fc.constant('delete' as const), card: smallKeys }),
    );
    let sawGrowth = false;
    fc.assert(
      fc.property(fc.array(step, { minLength: 50, maxLength: 1500 }), fc.integer(), (ops, seed) => {
        const table = new CardTable(seed);
        const model = new Map<string, number>();
        for (const o of ops) {
          applyBoth(table, model, o);
          if (table.migrating > 0) sawGrowth = true;
          expect(table.size).toBe(model.size);
          expect(table.get(o.card)).toBe(model.get(o.card) ?? -1);
        }
        for (const [card, value] of model) expect(table.get(card)).toBe(value);
      }),
      { numRuns: 200 },
    );
    expect(sawGrowth).toBe(true);
  });

  it('the put that crosses the limit does not rehash everything: old entries move a few slots per later change', () => {
    const table = new CardTable(7);
    const n = 1 << 16; // a table of 2^17 slots holds 2^16 entries before it grows
    for (let i = 0; i < n; i++) table.set(String(1_000_000 + i), i);
    while (table.migrating > 0) table.delete('999999999999'); // any earlier growth finished (a canonical key: it migrates)
    table.set('42', 1); // crosses: a table twice the size takes the new entries
    expect(table.migrating).toBeGreaterThan(n - 200);
    for (let i = 0; i < n; i += 997) expect(table.get(String(1_000_000 + i))).toBe(i); // found in either table
    let changes = 0;
    while (table.migrating > 0) {
      table.set(String(5_000_000 + changes), changes);
      changes++;
    }
    expect(changes).toBeGreaterThan(1000); // spread over many changes, MIGRATE_STEP slots each
    for (let i = 0; i < n; i++) expect(table.get(String(1_000_000 + i))).toBe(i);
    expect(table.size).toBe(n + 1 + changes);
  });

  it('keeps every entry through growth and through deleting most of a dense cluster', () => {
    const table = new CardTable(1);
    for (let i = 0; i < 50_000; i++) table.set(String(i), i);
    for (let i = 0; i < 50_000; i += 3) expect(table.delete(String(i))).toBe(true);
    for (let i = 0; i < 50_000; i++) expect(table.get(String(i))).toBe(i % 3 === 0 ? -1 : i);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get('1')).toBe(-1);
  });
});

describe('RecordPool', () => {
  it('hands out disjoint blocks, recycles freed ones and keeps contents when it grows', () => {
    const pool = new RecordPool();
    const live = new Map<number, number>(); // offset → requested size
    for (let i = 0; i < 5_000; i++) {
      const n = 1 + (i % 37);
      const at = pool.alloc(n);
      for (const [other, m] of live) {
        const overlaps = at < other + RecordPool.blockSize(m) && other < at + RecordPool.blockSize(n);
        if (overlaps) throw new Error(`block ${at}+${n} overlaps ${other}+${m}`);
      }
      pool.data.fill(at, at, at + n); // each block carries its own offset
      live.set(at, n);
      if (i % 4 === 3) {
        const [victim, m] = live.entries().next().value as [number, number];
        pool.free(victim, m);
        live.delete(victim);
        expect(pool.alloc(m)).toBe(victim); // the same size class comes back first
        pool.data.fill(victim, victim, victim + m);
        live.set(victim, m);
      }
    }
    for (const [at, n] of live) expect(Array.from(pool.data.subarray(at, at + n))).toEqual(new Array(n).fill(at));
    expect(pool.inUse()).toBe([...live.values()].reduce((sum, n) => sum + RecordPool.blockSize(n), 0));
  });

  it('grows in place: a view taken before a growth is the same memory after it (no copy)', () => {
    const pool = new RecordPool();
    const first = pool.alloc(8);
    const view = pool.data;
    view[first] = 42;
    const bytesBefore = pool.bytes;
    while (pool.bytes === bytesBefore) pool.alloc(1024); // until the pool has grown
    expect(pool.data).toBe(view); // the same length-tracking view
    expect(view.length * 8).toBe(pool.bytes);
    view[first + 1] = 7;
    expect(pool.data[first]).toBe(42);
    expect(pool.exportState().data[first + 1]).toBe(7);
  });

  it('takes over fresh data without a copy, once; another pool\'s exported data is copied, never shared', () => {
    const data = RecordPool.freshData(100_000);
    data[5] = 3.5;
    const pool = new RecordPool();
    pool.importState(data, 64, []);
    expect(pool.data.buffer).toBe(data.buffer); // the snapshot's read array is the pool's memory: no second copy resident
    expect(pool.data[5]).toBe(3.5);
    expect(pool.alloc(8)).toBe(64);
    // The same fresh data imported again, or a pool's exported state, goes into memory of its own.
    const again = new RecordPool();
    again.importState(data, 64, []);
    const other = new RecordPool();
    other.importState(pool.exportState().data, 64, []);
    for (const p of [again, other]) {
      expect(p.data.buffer).not.toBe(pool.data.buffer);
      expect(p.data[5]).toBe(3.5);
    }
    pool.data[5] = 9;
    expect([again.data[5], other.data[5]]).toEqual([3.5, 3.5]);
  });
});
