import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToken, DuplicateTokenNameError, findByToken, listTokens, revokeToken } from '../../src/store/api-tokens.js';
import { recentChanges } from '../../src/store/change-audit.js';
import type { Store } from '../../src/store/store.js';
import { fileStore } from '../helpers/store.js';

/* The API token use cases on a real SQLite file: hash-only storage, lookup, revoke, unique names, change audit. */

describe('api tokens', () => {
  let store: Store;
  let close: () => void;
  beforeEach(() => {
    ({ store, close } = fileStore());
  });
  afterEach(() => {
    close();
  });

  it('stores only the sha256: the token text appears in no column of api_tokens nor change_audit', () => {
    const made = createToken(store, { name: 'provisioner', scope: 'write' }, 1000, 'cli:ana@host');
    expect(made.token).toMatch(/^lt_[A-Za-z0-9_-]{43}$/);
    const dump = JSON.stringify([store.db.prepare('SELECT * FROM api_tokens').all(), store.db.prepare('SELECT * FROM change_audit').all()], (_k, v: unknown) =>
      Buffer.isBuffer(v) ? v.toString('latin1') : v,
    );
    expect(dump).not.toContain(made.token);
    expect(dump).not.toContain(made.token.slice(3));
    const row = store.db.prepare('SELECT token_hash FROM api_tokens').get() as { token_hash: Buffer };
    expect(row.token_hash).toHaveLength(32);
    expect(findByToken(store, made.token)).toEqual({ name: 'provisioner', scope: 'write' });
    expect(findByToken(store, `${made.token}x`)).toBeUndefined();
  });

  it('names tokens token-<n> by default and refuses a duplicate name with a typed error', () => {
    expect(createToken(store, { scope: 'read' }, 1, 'cli:a@h').name).toBe('token-1');
    expect(createToken(store, { scope: 'read' }, 2, 'cli:a@h').name).toBe('token-2');
    expect(() => createToken(store, { name: 'token-1', scope: 'admin' }, 3, 'cli:a@h')).toThrow(DuplicateTokenNameError);
    expect(listTokens(store).map((t) => t.name)).toEqual(['token-1', 'token-2']);
  });

  it('revoke refuses the token from then on; revoking again or an unknown name is false and writes nothing', () => {
    const made = createToken(store, { name: 'ci', scope: 'admin' }, 10, 'cli:a@h');
    expect(revokeToken(store, 'ci', 20, 'cli:b@h')).toBe(true);
    expect(findByToken(store, made.token)).toBeUndefined();
    expect(revokeToken(store, 'ci', 30, 'cli:b@h')).toBe(false);
    expect(revokeToken(store, 'nobody', 30, 'cli:b@h')).toBe(false);
    expect(listTokens(store)).toEqual([{ name: 'ci', scope: 'admin', createdAt: 10, revokedAt: 20, lastUsedAt: null }]);
    expect(recentChanges(store).map(({ at, actor, action, target, detail }) => ({ at, actor, action, target, detail }))).toEqual([
      { at: 20, actor: 'cli:b@h', action: 'token.revoke', target: 'ci', detail: null },
      { at: 10, actor: 'cli:a@h', action: 'token.create', target: 'ci', detail: '{"scope":"admin"}' },
    ]);
  });

  it('a refused duplicate leaves no change_audit row', () => {
    createToken(store, { name: 'x', scope: 'read' }, 1, 'cli:a@h');
    expect(() => createToken(store, { name: 'x', scope: 'read' }, 2, 'cli:a@h')).toThrow(DuplicateTokenNameError);
    expect(recentChanges(store)).toHaveLength(1);
  });
});
