import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';
import { countCredentials, findPersonByEmail } from '../store/people.js';
import type { Clock } from '../util/clock.js';
import { memberSubjectOf } from './member-subject.js';
import { encodeMemberToken } from './member-token.js';

export type QrIssueErrorCode = 'unknown_person' | 'person_suspended' | 'no_active_card';

const MESSAGES: Record<QrIssueErrorCode, string> = {
  unknown_person: 'no person with that email',
  person_suspended: 'the person is suspended',
  no_active_card: 'every card of the person is disabled or lost',
};

/** Why a token could not be issued; the HTTP routes map the code to 404 / 409. */
export class QrIssueError extends Error {
  constructor(readonly code: QrIssueErrorCode) {
    super(MESSAGES[code]);
    this.name = 'QrIssueError';
  }
}

export interface IssuedToken {
  token: string;
  /** ms since epoch, exclusive */
  expiresAt: number;
  /** Local row id, for this process only: it never goes into the token or an answer. */
  personId: number;
}

export interface IssueMemberTokenInput {
  db: Db;
  key: Buffer;
  email: string;
  ttlSeconds: number;
  /** ms since epoch */
  now: number;
  /** 8 bytes; tests pin it */
  nonce?: Buffer;
}

/**
 * Issues a member token for a person named by email (the token names them by subject, see
 * member-subject.ts). Refused for an unknown or suspended person, and for one whose cards
 * were all taken away (disabled, lost): the operator withdrew their credential, and a token
 * must not hand it back. A person without any card (a member the booking platform created)
 * is served: the token is their credential.
 *
 * Times are whole seconds, issuedAt rounded down, but never before the person's
 * tokens_valid_after: a token issued in the second of a revocation, after it, is dated at the
 * next whole second (less than a second ahead, well inside the verifier's skew) and works.
 */
export function issueMemberToken(input: IssueMemberTokenInput): IssuedToken {
  const person = findPersonByEmail(input.db, input.email);
  if (person === undefined) throw new QrIssueError('unknown_person');
  if (person.state !== 'active') throw new QrIssueError('person_suspended');
  const cards = countCredentials(input.db, person.id);
  if (cards.total > 0 && cards.active === 0) throw new QrIssueError('no_active_card');
  const issuedAt = Math.max(Math.floor(input.now / 1000) * 1000, Math.ceil(person.tokens_valid_after / 1000) * 1000);
  const expiresAt = issuedAt + input.ttlSeconds * 1000;
  const subject = memberSubjectOf(input.key)(person.email);
  const token = encodeMemberToken(input.key, { subject, issuedAt, expiresAt }, input.nonce ?? randomBytes(8));
  return { token, expiresAt, personId: person.id };
}

/** The issuer the composition root hands to `lintel qr issue` and to the HTTP routes. */
export function createMemberQrIssuer(deps: { db: Db; key: Buffer; ttlSeconds: number; clock: Clock }): (email: string) => IssuedToken {
  return (email) => issueMemberToken({ db: deps.db, key: deps.key, email, ttlSeconds: deps.ttlSeconds, now: deps.clock.now() });
}
