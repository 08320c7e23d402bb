import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Scope } from '../api/v1/actor.js';
import { recordChange } from './change-audit.js';
import { prepareCached as cached } from './db.js';
import type { DbHolder, Store } from './store.js';

/*
 * The provisioning API's tokens (migration 13, table api_tokens): created, listed and revoked by
 * the CLI, checked by src/api/v1/token-auth.ts. Only the sha256 of a token is stored, so a copy
 * of the database (a backup, a support bundle) does not hand out API access. Tokens are named
 * by their name outside the process, never by row id.
 */

export const TOKEN_SCOPES: readonly Scope[] = ['read', 'write', 'admin'];

export class DuplicateTokenNameError extends Error {
  readonly code = 'duplicate_token_name';
  constructor(name: string) {
    super(`an API token named "${name}" already exists`);
    this.name = 'DuplicateTokenNameError';
  }
}

export interface CreatedToken {
  name: string;
  scope: Scope;
  /** The secret: shown to the operator once, never stored. */
  token: string;
}

export interface TokenSummary {
  name: string;
  scope: Scope;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface TokenHolder {
  name: string;
  scope: Scope;
}

export const tokenDigest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** The default name: the first `token-<n>` not taken, so that names stay unique without asking. */
function defaultName(holder: DbHolder): string {
  const taken = new Set((cached(holder.db, "SELECT name FROM api_tokens WHERE name LIKE 'token-%'").all() as { name: string }[]).map((r) => r.name));
  let n = 1;
  while (taken.has(`token-${n}`)) n++;
  return `token-${n}`;
}

/** A new token: 'lt_' + 32 random bytes (base64url); the change audit names it, never its secret. */
export function createToken(store: Store, input: { name?: string; scope: Scope }, now: number, actor: string): CreatedToken {
  const token = `lt_${randomBytes(32).toString('base64url')}`;
  return store.transact(
    (tx) => {
      const name = input.name ?? defaultName(tx);
      if (cached(tx.db, 'SELECT 1 FROM api_tokens WHERE name = ?').get(name) !== undefined) throw new DuplicateTokenNameError(name);
      cached(tx.db, 'INSERT INTO api_tokens (name, scope, token_hash, created_at) VALUES (?, ?, ?, ?)').run(name, input.scope, tokenDigest(token), now);
      recordChange(tx, { at: now, actor, action: 'token.create', target: name, detail: { scope: input.scope } });
      return { name, scope: input.scope, token };
    },
    // Reads (the name) before it writes: take the write lock at BEGIN.
    { immediate: true },
  );
}

/** Every token, revoked ones too (so the operator sees what existed); never a secret or hash. */
export function listTokens(holder: DbHolder): TokenSummary[] {
  return cached(
    holder.db,
    'SELECT name, scope, created_at AS createdAt, revoked_at AS revokedAt, last_used_at AS lastUsedAt FROM api_tokens ORDER BY created_at, name',
  ).all() as TokenSummary[];
}

/** False when no live token has that name (unknown or already revoked): nothing is written then. */
export function revokeToken(store: Store, name: string, now: number, actor: string): boolean {
  return store.transact(
    (tx) => {
      const result = cached(tx.db, 'UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(now, name);
      if (result.changes === 0) return false;
      recordChange(tx, { at: now, actor, action: 'token.revoke', target: name });
      return true;
    },
    { immediate: true },
  );
}

/**
 * The live token `presented` is, if any. Looked up by digest: the digest of a guess reveals
 * nothing about stored tokens, so the index lookup leaks no useful timing; the digest is compared
 * again in constant time so that correctness never rests on the index's comparison alone.
 */
export function findByToken(holder: DbHolder, presented: string): TokenHolder | undefined {
  const digest = tokenDigest(presented);
  const row = cached(holder.db, 'SELECT name, scope, token_hash AS hash, revoked_at AS revokedAt FROM api_tokens WHERE token_hash = ?').get(digest) as
    | { name: string; scope: Scope; hash: Buffer; revokedAt: number | null }
    | undefined;
  if (row === undefined || row.hash.length !== digest.length || !timingSafeEqual(row.hash, digest)) return undefined;
  if (row.revokedAt !== null) return undefined;
  return { name: row.name, scope: row.scope };
}

/** Best-effort bookkeeping for `token list`; the caller decides how often (token-auth: once a minute). */
export function touchToken(store: Store, name: string, now: number): void {
  // 'normal': a last-use time lost to a power cut is harmless, and an fsync would be paid on the request's turn.
  store.transact(
    (tx) => {
      cached(tx.db, 'UPDATE api_tokens SET last_used_at = ? WHERE name = ?').run(now, name);
    },
    { durability: 'normal' },
  );
}
