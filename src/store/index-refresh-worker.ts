import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerOwnPriority } from '../util/priority.js';
import type { RefreshReply, RefreshRequest } from './index-load-format.js';
import { packPage, pageBuffers, type Value } from './index-load-pack.js';

/*
 * The worker side of applying other connections' commits (index-refresh.ts): given the ids of
 * people the change log names, it reads their current rows (people, cards, grants, memberships)
 * in one read transaction on its own read-only connection and sends them back as one packed
 * page, the first start's format. Reading and turning rows into JS values was most of a refresh
 * on the main thread (~60 % of a 20,000-row import's apply, and its garbage); here it runs on the
 * other core, niced like every background thread, and the main thread only fills the page.
 */

const file = workerData as string;
const port = parentPort!;
lowerOwnPriority();

const db = new Database(file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
// json_each: one statement per table for the whole chunk, in person order as packPage wants.
const chosen = 'IN (SELECT value FROM json_each(?))';
const personStmt = db.prepare(`SELECT id, email, state, tokens_valid_after, subject_hi, subject_lo, subject_key, valid_from, valid_to FROM people WHERE id ${chosen} ORDER BY id`).raw();
const cardStmt = db.prepare(`SELECT person_id, number, state, valid_from, valid_to FROM credentials WHERE person_id ${chosen} ORDER BY person_id`).raw();
const grantStmt = db.prepare(`SELECT person_id, door_id, valid_from, valid_to FROM grants WHERE person_id ${chosen} ORDER BY person_id`).raw();
const memberStmt = db.prepare(`SELECT person_id, group_id, valid_from, valid_to FROM person_groups WHERE person_id ${chosen} ORDER BY person_id`).raw();
const read = db.transaction((ids: string) => ({
  rows: personStmt.all(ids) as Value[][],
  cards: cardStmt.all(ids) as Value[][],
  grants: grantStmt.all(ids) as Value[][],
  memberships: memberStmt.all(ids) as [number, string, number | null, number | null][],
}));

function answer(req: RefreshRequest): void {
  let reply: RefreshReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const { rows, cards, grants, memberships } = read(JSON.stringify(req.ids));
    const page = packPage(req, rows, cards, grants, memberships);
    const found = new Set(page.ids);
    reply = { kind: 'page', id: req.id, page, missing: req.ids.filter((id) => !found.has(id)) };
    transfer = pageBuffers(page);
  } catch (err) {
    reply = { kind: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, transfer);
}

port.on('message', (req: RefreshRequest) => answer(req));
port.once('close', () => db.close());
