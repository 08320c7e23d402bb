import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ROLES, type Role } from '../console/operator.js';
import { recordChange } from './change-audit.js';
import { prepareCached as cached } from './db.js';
import type { DbHolder, Store } from './store.js';

/*
 * The console's operator accounts (migration 15): added, listed, removed and given a new
 * password by the CLI, looked up by the login route. The password is hashed by the caller
 * (console/passwords.ts, async scrypt) before the transaction, so no SQLite write waits on a
 * hash and no transaction is held open across one. Every change writes its change_audit row in
 * the same transaction; the audit names the account, never its hash.
 */

/** Printable, no spaces, 1–64: it is shown on the page and in the audit as "console:<name>". */
export const operatorNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\s\p{C}]+$/u, 'printable characters, no spaces');
export const roleSchema = z.enum(ROLES);

export class DuplicateOperatorError extends Error {
  readonly code = 'duplicate_operator';
  constructor(name: string) {
    super(`an operator named "${name}" already exists`);
    this.name = 'DuplicateOperatorError';
  }
}

export interface OperatorSummary {
  name: string;
  role: Role;
  createdAt: number;
  updatedAt: number;
}

export interface OperatorAccount {
  name: string;
  role: Role;
  passwordHash: string;
}

export interface NewOperator {
  name: string;
  role: Role;
  /** From hashPassword(): the plain password never reaches the store. */
  passwordHash: string;
}

export function addOperator(store: Store, input: NewOperator, now: number, actor: string): OperatorSummary {
  const name = operatorNameSchema.parse(input.name);
  const role = roleSchema.parse(input.role);
  return store.transact(
    (tx) => {
      if (cached(tx.db, 'SELECT 1 FROM operators WHERE name = ?').get(name) !== undefined) throw new DuplicateOperatorError(name);
      cached(tx.db, 'INSERT INTO operators (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(name, role, input.passwordHash, now, now);
      recordChange(tx, { at: now, actor, action: 'operator.add', target: name, detail: { role } });
      return { name, role, createdAt: now, updatedAt: now };
    },
    // Reads (is the name taken) before it writes: take the write lock at BEGIN.
    { immediate: true },
  );
}

/** Every account, by name; never the hash. */
export function listOperators(holder: DbHolder): OperatorSummary[] {
  return cached(holder.db, 'SELECT name, role, created_at AS createdAt, updated_at AS updatedAt FROM operators ORDER BY name').all() as OperatorSummary[];
}

/** False when there is no such account: nothing is written then. */
export function removeOperator(store: Store, name: string, now: number, actor: string): boolean {
  return store.transact(
    (tx) => {
      if (cached(tx.db, 'DELETE FROM operators WHERE name = ?').run(name).changes === 0) return false;
      recordChange(tx, { at: now, actor, action: 'operator.remove', target: name });
      return true;
    },
    { immediate: true },
  );
}

/** False when there is no such account. The sessions signed in with the old password end at their next request (console-auth/middleware.ts). */
export function setOperatorPassword(store: Store, name: string, passwordHash: string, now: number, actor: string): boolean {
  return store.transact(
    (tx) => {
      if (cached(tx.db, 'UPDATE operators SET password_hash = ?, updated_at = ? WHERE name = ?').run(passwordHash, now, name).changes === 0) return false;
      recordChange(tx, { at: now, actor, action: 'operator.passwd', target: name });
      return true;
    },
    { immediate: true },
  );
}

/** The account to check a login against (with its hash: for console-auth only). */
export function findOperator(holder: DbHolder, name: string): OperatorAccount | undefined {
  return cached(holder.db, 'SELECT name, role, password_hash AS passwordHash FROM operators WHERE name = ?').get(name) as OperatorAccount | undefined;
}

export function countOperators(holder: DbHolder): number {
  return (cached(holder.db, 'SELECT COUNT(*) AS n FROM operators').get() as { n: number }).n;
}

/**
 * How many accounts the database file holds, for the start checks (config/preflight.ts), which
 * run before the store opens: 0 when the file or the table does not exist yet (fail closed: a
 * new site has no accounts), and when it cannot be read. Read-only: it never migrates nor locks anything.
 */
export function countOperatorsInFile(file: string): number {
  if (!existsSync(file)) return 0;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'operators'").get();
    return table === undefined ? 0 : (db.prepare('SELECT COUNT(*) AS n FROM operators').get() as { n: number }).n;
  } catch {
    // A file that cannot be read here is reported by the store when it opens it; no account is assumed meanwhile.
    return 0;
  } finally {
    db?.close();
  }
}
