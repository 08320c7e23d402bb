import { recordChange, type ChangeEntry } from '../../store/change-audit.js';
import { deleteCompany, joinCompany, leaveCompany, putCompany } from '../../store/company-admin.js';
import { deleteCard, deletePerson, putCard, putPerson } from '../../store/people-admin.js';
import type { Store } from '../../store/store.js';
import { cancelBooking, putBooking, type BookingContext, type BookingInput } from '../../store/booking-admin.js';
import { policyOfConfig, type BookingConfig } from '../../upstream/booking-apply.js';
import { deleteSubscription, putSubscription } from '../../store/subscription-admin.js';
import { assignLearnedCard, disableCard, revokePersonTokens, setPersonState, switchLockdownAudited } from '../../store/console-admin.js';

/*
 * Every write the v1 API makes, by name: the routes call them through a Writes, which in the
 * gateway is the API thread's batcher (the routes run on that thread too: thread-app.ts), for the
 * console the same ops sent to that thread by name (writer.ts), and a direct call in tests and
 * the CLI. Arguments and results are plain data (structured-clone safe), so a call means the
 * same on either side.
 */

export const WRITE_OPS = {
  putPerson,
  deletePerson,
  putCard,
  deleteCard,
  putCompany,
  deleteCompany,
  joinCompany,
  leaveCompany,
  putSubscription,
  deleteSubscription,
  audit: (store: Store, entry: ChangeEntry): void => store.transact((tx) => recordChange(tx, entry)),
  // The policy is built where it is used, from plain config data: a policy object (functions) cannot cross to the thread.
  putBooking: (store: Store, id: string, input: BookingInput, cfg: BookingConfig, ctx: BookingContext) => putBooking(store, id, input, policyOfConfig(store, cfg), ctx),
  cancelBooking,
  // The operator's actions (console/operator-actions.ts): the same thread, the same durable batches.
  setPersonState,
  revokePersonTokens,
  disableCard,
  assignLearnedCard,
  switchLockdownAudited,
};

type Ops = typeof WRITE_OPS;
type Rest<F> = F extends (store: Store, ...args: infer A) => unknown ? A : never;
export type WriteOp = keyof Ops;
export type Writes = { [K in WriteOp]: (...args: Rest<Ops[K]>) => Promise<ReturnType<Ops[K]>> };

/** The ops on this thread's store: for tests and one-shot tools (the gateway uses the writer thread). */
export function directWrites(store: Store): Writes {
  return writesVia((op, args) => Promise.resolve().then(() => runOp(store, op, args)));
}

export function runOp(store: Store, op: WriteOp, args: readonly unknown[]): unknown {
  return (WRITE_OPS[op] as (s: Store, ...a: unknown[]) => unknown)(store, ...args);
}

/** The same shape over any transport: `send(op, args)` answers with the op's result. */
export function writesVia(send: (op: WriteOp, args: unknown[]) => Promise<unknown>): Writes {
  return Object.fromEntries(Object.keys(WRITE_OPS).map((op) => [op, (...args: unknown[]) => send(op as WriteOp, args)])) as Writes;
}
