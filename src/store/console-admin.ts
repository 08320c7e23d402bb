import { maskCredential } from '../util/mask.js';
import { UnknownCardError } from './admin-errors.js';
import { recordChange } from './change-audit.js';
import { UnknownMemberError, setMemberState } from './member-admin.js';
import type { ChangeContext } from './people-admin.js';
import { writeCard } from './people-admin.js';
import type { PersonRow } from './people-repository.js';
import type { Store, Tx } from './store.js';

/*
 * The operator's writes from the console, MQTT and the operator API (console/operator-actions.ts):
 * each one Store.transact with its change_audit row, so who did it is in the same commit as what
 * was done. They run on the API's writer thread like every v1 write (api/v1/write-ops.ts): the
 * main thread, which decides badges, never waits for the write lock.
 */

export interface ActionOutcome {
  /** False when the target already was in that state (nothing written, nothing audited). */
  changed: boolean;
  /** What the page and the MQTT answer show: natural keys, masked card numbers. */
  target: string;
}

function person(tx: Tx, email: string): PersonRow {
  const row = tx.people.byEmail(email);
  if (row === undefined) throw new UnknownMemberError();
  return row;
}

/** Suspends or reinstates a person (suspending voids their member tokens, member-admin.ts). */
export function setPersonState(store: Store, email: string, state: 'active' | 'suspended', ctx: ChangeContext): ActionOutcome {
  return store.transact((tx) => {
    const row = person(tx, email);
    const changed = setMemberState(tx, row, state, ctx.now);
    if (changed) recordChange(tx, { at: ctx.now, actor: ctx.actor, action: state === 'suspended' ? 'person.suspend' : 'person.reinstate', target: row.email });
    return { changed, target: row.email };
  });
}

export function revokePersonTokens(store: Store, email: string, ctx: ChangeContext): ActionOutcome {
  return store.transact((tx) => {
    const row = person(tx, email);
    tx.people.revokeTokens(row.id, ctx.now);
    recordChange(tx, { at: ctx.now, actor: ctx.actor, action: 'person.revoke-tokens', target: row.email });
    return { changed: true, target: row.email };
  });
}

/**
 * Disables one of the person's cards, named by its full number or by the end of it (what an
 * operator reads off a masked list: "the card ending 4821"). An ending that fits two of their
 * cards, or none, is refused: never a guess.
 */
export function disableCard(store: Store, email: string, card: string, ctx: ChangeContext): ActionOutcome {
  return store.transact((tx) => {
    const row = person(tx, email);
    const cards = tx.credentials.ofPerson(row.id);
    const exact = cards.find((c) => c.number === card);
    const ending = exact ? [exact] : card.length >= 4 ? cards.filter((c) => c.number.endsWith(card)) : [];
    if (ending.length !== 1) throw new UnknownCardError();
    const c = ending[0]!;
    const target = `${row.email} ${maskCredential(c.number)}`;
    if (c.state === 'disabled') return { changed: false, target };
    writeCard(tx, row, c.number, { format: c.format, state: 'disabled', validFrom: c.valid_from, validTo: c.valid_to }, ctx);
    return { changed: true, target };
  });
}

/** The card an admin captured in learn mode (readers/learn-mode.ts), given to a person as active. */
export function assignLearnedCard(store: Store, email: string, number: string, format: string, ctx: ChangeContext): ActionOutcome {
  return store.transact((tx) => {
    const row = person(tx, email);
    const w = writeCard(tx, row, number, { format, state: 'active', validFrom: null, validTo: null }, ctx);
    return { changed: w.changed, target: `${row.email} ${maskCredential(number)}` };
  });
}

/** Lockdown with its change_audit row (site_state keeps the latest switch; the audit keeps them all). */
export function switchLockdownAudited(store: Store, on: boolean, ctx: ChangeContext): ActionOutcome {
  return store.transact((tx) => {
    const changed = tx.site.setLockdown(on, ctx.now, ctx.actor);
    if (changed) recordChange(tx, { at: ctx.now, actor: ctx.actor, action: on ? 'lockdown.on' : 'lockdown.off', target: 'site' });
    return { changed, target: 'site' };
  });
}
