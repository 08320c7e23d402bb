import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/console/passwords.js';
import { recentChanges } from '../../src/store/change-audit.js';
import { openDatabase } from '../../src/store/db.js';
import {
  addOperator,
  countOperators,
  countOperatorsInFile,
  DuplicateOperatorError,
  findOperator,
  listOperators,
  removeOperator,
  setOperatorPassword,
} from '../../src/store/operators.js';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../helpers/tmp.js';

/* Operator accounts on a real SQLite file: the hash never listed, a change-audit row with every change, a refused change writes nothing. */

const FAST = { N: 2 ** 10, r: 8, p: 1 };
const ACTOR = 'cli:root@box';

describe('operator accounts', () => {
  let store: Store;
  let file: string;
  let cleanup: () => void;
  beforeEach(() => {
    const t = tempDir();
    cleanup = t.cleanup;
    file = join(t.dir, 'lintel.db');
    store = new Store(openDatabase(file));
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  it('adds, lists without the hash, finds with it, changes the password and removes, each with its audit row', async () => {
    const hash = await hashPassword('first password!', FAST);
    expect(addOperator(store, { name: 'alice', role: 'operator', passwordHash: hash }, 1000, ACTOR)).toEqual({ name: 'alice', role: 'operator', createdAt: 1000, updatedAt: 1000 });
    addOperator(store, { name: 'bob@site', role: 'viewer', passwordHash: hash }, 1001, ACTOR);
    const listed = listOperators(store);
    expect(listed).toEqual([
      { name: 'alice', role: 'operator', createdAt: 1000, updatedAt: 1000 },
      { name: 'bob@site', role: 'viewer', createdAt: 1001, updatedAt: 1001 },
    ]);
    expect(JSON.stringify(listed)).not.toContain('scrypt$');
    expect(countOperators(store)).toBe(2);

    const second = await hashPassword('second password', FAST);
    expect(setOperatorPassword(store, 'alice', second, 2000, ACTOR)).toBe(true);
    const found = findOperator(store, 'alice')!;
    expect(found.role).toBe('operator');
    expect(await verifyPassword('second password', found.passwordHash)).toBe(true);
    expect(await verifyPassword('first password!', found.passwordHash)).toBe(false);
    expect(listOperators(store)[0]!.updatedAt).toBe(2000);

    expect(removeOperator(store, 'bob@site', 3000, ACTOR)).toBe(true);
    expect(findOperator(store, 'bob@site')).toBeUndefined();
    const audit = recentChanges(store).reverse();
    expect(audit.map((a) => [a.actor, a.action, a.target, a.detail])).toEqual([
      [ACTOR, 'operator.add', 'alice', '{"role":"operator"}'],
      [ACTOR, 'operator.add', 'bob@site', '{"role":"viewer"}'],
      [ACTOR, 'operator.passwd', 'alice', null],
      [ACTOR, 'operator.remove', 'bob@site', null],
    ]);
    expect(JSON.stringify(audit)).not.toContain('scrypt$');
  });

  it('refuses a taken name, a bad name or role, and an unknown account, writing nothing', async () => {
    const hash = await hashPassword('a password here', FAST);
    addOperator(store, { name: 'alice', role: 'admin', passwordHash: hash }, 1, ACTOR);
    const before = recentChanges(store);
    expect(() => addOperator(store, { name: 'alice', role: 'viewer', passwordHash: hash }, 2, ACTOR)).toThrow(DuplicateOperatorError);
    for (const name of ['', 'has space', 'tab\there', 'x'.repeat(65), 'bell\u0007']) {
      expect(() => addOperator(store, { name, role: 'viewer', passwordHash: hash }, 2, ACTOR)).toThrow();
    }
    expect(() => addOperator(store, { name: 'carol', role: 'root' as 'admin', passwordHash: hash }, 2, ACTOR)).toThrow();
    expect(setOperatorPassword(store, 'nobody', hash, 2, ACTOR)).toBe(false);
    expect(removeOperator(store, 'nobody', 2, ACTOR)).toBe(false);
    expect(recentChanges(store)).toEqual(before);
    expect(listOperators(store).map((o) => [o.name, o.role])).toEqual([['alice', 'admin']]);
  });

  it('counts the accounts in a database file read-only, 0 for a file that does not exist yet', async () => {
    expect(countOperatorsInFile(join(file, '..', 'missing.db'))).toBe(0);
    expect(countOperatorsInFile(file)).toBe(0);
    addOperator(store, { name: 'alice', role: 'viewer', passwordHash: await hashPassword('a password here', FAST) }, 1, ACTOR);
    expect(countOperatorsInFile(file)).toBe(1);
  });
});
