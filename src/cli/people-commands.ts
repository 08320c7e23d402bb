import { z } from 'zod';
import type { Store } from '../store/store.js';
import { reinstateMember, revokeMemberTokens, suspendMember, type MemberChange } from '../store/member-admin.js';

/*
 * `lintel people suspend|reinstate EMAIL` and `lintel qr revoke EMAIL`: thin front ends over
 * the use cases in src/store/member-admin.ts. They write to the database file; a gateway
 * running on it picks the commit up like any other external change.
 */

export const PEOPLE_HELP = `  people suspend EMAIL [-c FILE]
                                refuse the person's cards and member tokens (revokes the tokens)
  people reinstate EMAIL [-c FILE]
                                let a suspended person's cards in again (tokens must be issued anew)
  qr revoke EMAIL [-c FILE]     void every member token issued to the person so far`;

/** A malformed command line; the CLI exits 2 with the message. */
export class MemberCommandUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemberCommandUsageError';
  }
}

/** Opens the configured store for the duration of `fn` (the CLI's withStore). */
export type WithStore = <T>(fn: (store: Store) => T) => T;

const emailArg = z.email().max(254);

function parseEmail(value: string | undefined, usage: string): string {
  if (value === undefined) throw new MemberCommandUsageError(usage);
  const parsed = emailArg.safeParse(value.trim());
  if (!parsed.success) throw new MemberCommandUsageError(`not an email address: ${JSON.stringify(value)}\n${usage}`);
  return parsed.data;
}

const PEOPLE_USAGE = 'usage: lintel people suspend|reinstate EMAIL [-c CONFIG]';
const REVOKE_USAGE = 'usage: lintel qr revoke EMAIL [-c CONFIG]';

/** `people <sub> EMAIL`: returns the line to print. */
export function runPeopleCommand(args: string[], withStore: WithStore, now: () => number): string {
  const [sub, rawEmail] = args;
  if (sub !== 'suspend' && sub !== 'reinstate') throw new MemberCommandUsageError(PEOPLE_USAGE);
  const email = parseEmail(rawEmail, PEOPLE_USAGE);
  if (sub === 'suspend') {
    const r = withStore((store) => suspendMember(store, email, now()));
    return r.changed ? `suspended ${r.email}: cards and member tokens are refused` : `${r.email} is already suspended`;
  }
  const r = withStore((store) => reinstateMember(store, email, now()));
  return r.changed ? `reinstated ${r.email}: cards work again; member tokens must be issued anew` : `${r.email} is already active`;
}

/** `qr revoke EMAIL`: returns the line to print. */
export function runQrRevoke(args: string[], withStore: WithStore, now: () => number): string {
  const email = parseEmail(args[0], REVOKE_USAGE);
  const r: MemberChange = withStore((store) => revokeMemberTokens(store, email, now()));
  return `revoked member tokens of ${r.email} issued before ${new Date(r.tokensValidAfter).toISOString()}`;
}
