import { describe, expect, it } from 'vitest';
import { AccessIndex, type PersonInput } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';

/*
 * Every put plans its record in one reused scratch (record-writer.ts) and a page fill hands the
 * index the same input arrays person after person (index-load-pages.ts): a long person followed
 * by a short one must leave nothing of the first in the second's record, and what the index
 * keeps of the first (its non-canonical cards above all) must not change with the second.
 */

const DAY = Date.parse('2026-12-02T00:00:00Z');
const NOON = DAY + 12 * 3600_000;

describe('puts through one reused plan', () => {
  it('a short person after a long one carries none of its windows or cards, and the long one keeps all of its own', () => {
    const index = new AccessIndex({ hashSeed: 3 });
    index.setDoors(['front', 'lab', 'side']);
    const long: PersonInput = {
      id: 1,
      active: true,
      tokensValidAfter: 0,
      grants: [
        { door: 'front', from: DAY, to: DAY + 86_400_000, source: 'booking' },
        { door: 'lab', from: DAY, to: DAY + 86_400_000, source: 'staff' },
      ],
      // 0777 has a leading zero: not canonical, held beside the record (otherCards).
      cards: [{ number: '1001', active: true }, { number: '1002', active: true }, { number: '0777', active: true }],
    };
    // The same arrays, cut and refilled, as a page fill passes them.
    const cards = [...long.cards];
    const grants = [...long.grants];
    const input: PersonInput = { ...long, cards, grants };
    index.putPerson(input);
    cards.length = 2;
    cards[0] = { number: '2001', active: true };
    cards[1] = { number: '0888', active: true };
    grants.length = 1;
    grants[0] = { door: 'side', from: DAY, to: DAY + 86_400_000, source: 'booking' };
    index.putPerson({ ...input, id: 2, cards, grants });

    for (const card of ['1001', '1002', '0777']) {
      expect(decideCard(index, card, 'front', NOON)).toMatchObject({ result: 'granted', personId: 1 });
      expect(decideCard(index, card, 'lab', NOON)).toMatchObject({ result: 'granted', personId: 1 });
      expect(decideCard(index, card, 'side', NOON)).toMatchObject({ result: 'denied', personId: 1 });
    }
    expect(decideCard(index, '2001', 'side', NOON)).toMatchObject({ result: 'granted', personId: 2 });
    expect(decideCard(index, '0888', 'side', NOON)).toMatchObject({ result: 'granted', personId: 2 });
    expect(decideCard(index, '2001', 'front', NOON)).toMatchObject({ result: 'denied', reason: 'no_grant', personId: 2 });
    expect(decideCard(index, '2001', 'lab', NOON)).toMatchObject({ result: 'denied', reason: 'no_grant', personId: 2 });
    expect(index.stats()).toMatchObject({ people: 2, cards: 5, grants: 3 });

    // Removing the first takes exactly its own cards, the non-canonical one too, and leaves the second whole.
    index.removePerson(1);
    for (const card of ['1001', '1002', '0777']) expect(decideCard(index, card, 'front', NOON)).toMatchObject({ result: 'denied', reason: 'unknown_credential' });
    expect(decideCard(index, '0888', 'side', NOON)).toMatchObject({ result: 'granted', personId: 2 });
    expect(decideCard(index, '2001', 'side', NOON)).toMatchObject({ result: 'granted', personId: 2 });
  });
});
