import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';
import { findPersonByEmail } from '../store/people.js';
import type { Clock } from '../util/clock.js';
import { encodeMemberToken } from './member-token.js';

export type QrIssueErrorCode = 'unknown_person' | 'person_suspended';

/** Why a token could not be issued; the HTTP routes map the code to 404 / 409. */
export class QrIssueError extends Error {
  constructor(readonly code: QrIssueErrorCode) {
    super(code === 'unknown_person' ? 'no person with that email' : 'the person is suspended');
    this.name = 'QrIssueError';
  }
}

export interface IssuedToken {
  token: string;
  /** ms since epoch, exclusive */
  expiresAt: number;
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
 * Issues a member token. Times are whole seconds, issuedAt rounded down: a token issued in the
 * same second as a revocation (`tokensValidAfter`) is therefore void too — fail closed; issue
 * again a second later.
 */
export function issueMemberToken(input: IssueMemberTokenInput): IssuedToken {
  const person = findPersonByEmail(input.db, input.email);
  if (person === undefined) throw new QrIssueError('unknown_person');
  if (person.state !== 'active') throw new QrIssueError('person_suspended');
  const issuedAt = Math.floor(input.now / 1000) * 1000;
  const expiresAt = issuedAt + input.ttlSeconds * 1000;
  const token = encodeMemberToken(input.key, { personId: person.id, issuedAt, expiresAt }, input.nonce ?? randomBytes(8));
  return { token, expiresAt, personId: person.id };
}

/** The issuer the composition root hands to `lintel qr issue` and to the HTTP routes. */
export function createMemberQrIssuer(deps: { db: Db; key: Buffer; ttlSeconds: number; clock: Clock }): (email: string) => IssuedToken {
  return (email) => issueMemberToken({ db: deps.db, key: deps.key, email, ttlSeconds: deps.ttlSeconds, now: deps.clock.now() });
}
