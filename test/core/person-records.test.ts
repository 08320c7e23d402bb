import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PersonRecords } from '../../src/access/person-records.js';

/* The index's person id → record table answers exactly as a Map would, whatever the ids. */

const id = fc.oneof(
  fc.integer({ min: 0, max: 200 }),
  fc.integer({ min: 65_530, max: 65_545 }), // both sides of a page boundary
  fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 40, -1, 1.5, Number.MAX_SAFE_INTEGER),
);
const offset = fc.oneof(fc.nat({ max: 10_000 }), fc.constantFrom(0, 2 ** 31 - 1, 2 ** 31, 2 ** 33));

describe('PersonRecords', () => {
  it('answers like a Map<number, number> after every set and delete, iteration included', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.tuple(fc.constant('set' as const), id, offset), fc.tuple(fc.constant('delete' as const), id, fc.constant(0))), { maxLength: 300 }), (ops) => {
        const records = new PersonRecords();
        const model = new Map<number, number>();
        for (const [op, k, v] of ops) {
          if (op === 'set') {
            records.set(k, v);
            model.set(k, v);
          } else {
            expect(records.delete(k)).toBe(model.delete(k));
          }
          expect(records.size).toBe(model.size);
          expect(records.get(k)).toBe(model.get(k));
        }
        expect(new Map([...records])).toEqual(model);
        records.clear();
        expect(records.size).toBe(0);
        expect([...records]).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
