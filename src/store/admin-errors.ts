/*
 * What a provisioning use case refuses, typed, each with the stable code the API answers with.
 * Thrown inside Store.transact before anything is written, so the refusal changes nothing.
 */

/** The client's If-Match names another version than the stored one (or the resource is gone). */
export class PreconditionFailedError extends Error {
  readonly code = 'precondition_failed';
  constructor(what: string) {
    super(`${what} changed since that version was read (If-Match does not match)`);
    this.name = 'PreconditionFailedError';
  }
}

/** A group the configuration does not define: stored, it would open nothing and say nothing. */
export class UnknownGroupError extends Error {
  readonly code = 'unknown_group';
  readonly field = 'groups';
  constructor(readonly group: string) {
    super(`unknown access group "${group}"`);
    this.name = 'UnknownGroupError';
  }
}

export class UnknownCardError extends Error {
  readonly code = 'unknown_card';
  constructor() {
    super('this person holds no such card');
    this.name = 'UnknownCardError';
  }
}

/** The end of a validity period is not after its start. */
export class BadPeriodError extends Error {
  readonly code = 'bad_period';
  constructor(readonly field: string) {
    super('validTo must be after validFrom');
    this.name = 'BadPeriodError';
  }
}

/** Refuses an If-Match list that does not name `current` (undefined: nothing stored). `*` matches anything stored. */
export function checkIfMatch(ifMatch: readonly string[] | undefined, current: string | undefined, what: string): void {
  if (ifMatch === undefined) return;
  if (current !== undefined && (ifMatch.includes('*') || ifMatch.includes(current))) return;
  throw new PreconditionFailedError(what);
}
