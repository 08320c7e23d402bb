import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/v1/errors.js';
import { ApiWriter } from '../../../src/api/v1/writer.js';
import { recentChanges } from '../../../src/store/change-audit.js';
import { readChangeMark } from '../../../src/store/change-log.js';
import type { Store } from '../../../src/store/store.js';
import { silentLogger } from '../../../src/util/log.js';
import { OtherProcess } from '../../helpers/lock-holder.js';
import { fileStore } from '../../helpers/store.js';

/*
 * The v1 writer thread (needs `npm run build`): the use cases run on its own connection and
 * answer as a direct call would, refusals arrive as the same ApiError, a write lock held by
 * another process makes a write wait (on that thread, not the caller's), and each commit is
 * reported before the answer.
 */

const person = { name: 'Ana', state: 'active' as const, validFrom: null, validTo: null, groups: [] };
const ctx = () => ({ actor: 'api:test', now: Date.now() });

describe('ApiWriter', () => {
  let store: Store;
  let close: () => void;
  let writer: ApiWriter;
  let commits: number;
  let marks: number[];
  beforeEach(() => {
    ({ store, close } = fileStore());
    commits = 0;
    marks = [];
    writer = new ApiWriter({ dbFile: store.db.name, key: randomBytes(32), logger: silentLogger, afterCommit: (seq) => Promise.resolve(void (commits++, marks.push(seq))) });
  });
  afterEach(async () => {
    await writer.stop();
    close();
  });

  it('runs the use cases on its connection: created, then unchanged, visible to this thread', async () => {
    const first = await writer.writes.putPerson('ana@example.com', person, ctx(), new Set());
    expect(first).toMatchObject({ created: true, changed: true, person: { email: 'ana@example.com', name: 'Ana' } });
    const again = await writer.writes.putPerson('ana@example.com', person, ctx(), new Set());
    expect(again).toMatchObject({ created: false, changed: false, version: first.version });
    expect(store.read((tx) => tx.people.byEmail('ana@example.com'))?.name).toBe('Ana');
    expect(recentChanges(store, 5).map((c) => c.action)).toEqual(['person.create']);
    expect(commits).toBe(2);
  });

  it('writes asked for in one turn travel together and each gets its own answer, a refusal only its own', async () => {
    await writer.writes.putPerson('ana@example.com', person, ctx(), new Set());
    const emails = Array.from({ length: 8 }, (_, i) => `p${i}@example.com`);
    const answers = await Promise.allSettled([
      ...emails.map((e) => writer.writes.putPerson(e, { ...person, name: e }, ctx(), new Set())),
      writer.writes.putPerson('cy@example.com', { ...person, groups: [{ group: 'vault', validFrom: null, validTo: null }] }, ctx(), new Set()),
      writer.writes.deletePerson('ana@example.com', ctx()),
    ]);
    expect(answers.slice(0, 8).map((a) => (a.status === 'fulfilled' ? (a.value as { person: { name: string } }).person.name : a.status))).toEqual(emails);
    expect(answers[8]).toMatchObject({ status: 'rejected', reason: { status: 422, code: 'unknown_group' } });
    expect(answers[9]).toEqual({ status: 'fulfilled', value: true });
    expect(store.read((tx) => tx.people.byEmail('ana@example.com'))).toBeUndefined();
    expect(store.read((tx) => tx.people.byEmail('p7@example.com'))?.name).toBe('p7@example.com');
  });

  it('a write asked for as the writer stops is refused 503, and no thread is started again', async () => {
    await writer.writes.putPerson('ana@example.com', person, ctx(), new Set());
    const late = writer.writes.putPerson('late@example.com', person, ctx(), new Set()).catch((err: unknown) => err);
    await writer.stop();
    expect(await late).toMatchObject({ status: 503 });
    await expect(writer.writes.putPerson('later@example.com', person, ctx(), new Set())).rejects.toMatchObject({ status: 503, code: 'stopping' });
    expect(store.read((tx) => tx.people.byEmail('late@example.com'))).toBeUndefined();
  });

  it("tells each commit's change-log mark, so the caller waits for the index up to its own write", async () => {
    await writer.writes.putPerson('ana@example.com', person, ctx(), new Set());
    const afterAna = readChangeMark(store.db).seq;
    await writer.writes.putPerson('bo@example.com', person, ctx(), new Set());
    expect(afterAna).toBeGreaterThan(0);
    expect(marks).toEqual([afterAna, readChangeMark(store.db).seq]);
    expect(marks[1]).toBeGreaterThan(afterAna);
  });

  it('answers a refusal as the ApiError a direct call would give, and writes nothing', async () => {
    await writer.writes.putPerson('ana@example.com', person, ctx(), new Set());
    await writer.writes.putPerson('bo@example.com', person, ctx(), new Set());
    await writer.writes.putCard('ana@example.com', '1001', { format: 'decimal', state: 'active', validFrom: null, validTo: null }, ctx());
    const refused = writer.writes.putCard('bo@example.com', '1001', { format: 'decimal', state: 'active', validFrom: null, validTo: null }, ctx());
    await expect(refused).rejects.toBeInstanceOf(ApiError);
    await expect(refused).rejects.toMatchObject({ status: 409, code: 'card_conflict' });
    await expect(writer.writes.putPerson('cy@example.com', { ...person, groups: [{ group: 'vault', validFrom: null, validTo: null }] }, ctx(), new Set())).rejects.toMatchObject({ status: 422, code: 'unknown_group' });
    expect(store.read((tx) => tx.people.byEmail('cy@example.com'))).toBeUndefined();
  });

  it("waits out another process's write lock on its own thread and then commits", async () => {
    const other = new OtherProcess(store.db.name);
    try {
      await other.lock();
      const pending = writer.writes.putPerson('late@example.com', person, ctx(), new Set());
      let settled = false;
      void pending.then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      await other.release();
      await expect(pending).resolves.toMatchObject({ created: true });
    } finally {
      await other.close();
    }
  });
});
