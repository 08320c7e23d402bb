import { afterEach } from 'vitest';
import { testStore } from './store.js';
import type { AccessIndex } from '../../src/access/access-index.js';
import type { AccessModel } from '../../src/access/model.js';
import type { Store } from '../../src/store/store.js';
import { ListedSchedules } from '../access/test-schedules.js';

/*
 * Shared by the company and subscription use-case tests: a small access model whose groups
 * open doors at every hour (so a decision turns on the membership window alone), and a dump
 * of every table those use cases touch, to show that a retry or a refusal wrote nothing.
 */

export const DOORS = ['front', 'lab'];
export const GROUPS: ReadonlySet<string> = new Set(['members', 'lab']);

export const MODEL: AccessModel = {
  timeZone: 'UTC',
  schedules: [],
  holidays: [],
  zones: [
    { id: 'front', doors: ['front'] },
    { id: 'lab', doors: ['lab'] },
  ],
  groups: [
    { id: 'members', zones: [{ zone: 'front', schedule: null }], lockdownOverride: false, firstPersonIn: false },
    { id: 'lab', zones: [{ zone: 'lab', schedule: null }], lockdownOverride: false, firstPersonIn: false },
  ],
  areas: [],
  doors: [],
};

/** Puts the model on testStore()'s index; only while it holds no people (AccessIndex.setModel). */
export function useModel(index: AccessIndex): void {
  index.setModel(MODEL, new ListedSchedules({}));
}

const TABLES = ['people', 'credentials', 'companies', 'company_members', 'subscriptions', 'person_groups', 'change_audit', 'change_log'];

/** Every row of every table the use cases write, in a stable order (change_log included: an unwritten row logs nothing). */
export function dump(store: Store): Record<string, unknown[]> {
  return Object.fromEntries(TABLES.map((t) => [t, store.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]));
}

export function auditCount(store: Store): number {
  return store.db.prepare('SELECT count(*) FROM change_audit').pluck().get() as number;
}

/** The person's memberships as [group, from, to, source, source id], by email. */
export function membershipsOf(store: Store, email: string): [string, number | null, number | null, string, string][] {
  return store.db
    .prepare(
      `SELECT g.group_id, g.valid_from, g.valid_to, g.source, g.source_id FROM person_groups g JOIN people p ON p.id = g.person_id
       WHERE p.email = ? ORDER BY g.source_id, g.group_id`,
    )
    .raw()
    .all(email) as [string, number | null, number | null, string, string][];
}

/** Gives the person (by email) a card, so the index can decide for them. */
export function giveCard(store: Store, email: string, card: string, now: number): void {
  store.transact((tx) => {
    const id = tx.people.byEmail(email)!.id;
    tx.credentials.assign(id, card, 'decimal', 'active', now);
  });
}

/**
 * A factory of modelled test stores for one test file: each store has DOORS and the index
 * decides with MODEL, and every store made is closed after its test.
 */
export function modelledSites(): () => ReturnType<typeof testStore> {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });
  return () => {
    const s = testStore(DOORS);
    cleanup.push(s.close);
    useModel(s.index);
    return s;
  };
}
