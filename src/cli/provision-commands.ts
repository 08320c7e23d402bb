import type { z } from 'zod';
import { cardInput, CardPut, Email, PersonPut, personInput } from '../api/v1/schemas.js';
import { normalizeImportedCard } from '../readers/card-formats.js';
import { BadPeriodError, UnknownCardError, UnknownGroupError } from '../store/admin-errors.js';
import { CredentialConflictError } from '../store/credentials-repository.js';
import { deleteCard, deletePerson, putCard, putPerson, type Outcome } from '../store/people-admin.js';
import type { PersonView } from '../store/person-view.js';
import { maskCredential } from '../util/mask.js';
import { withStore } from './cli-store.js';
import { EXIT, UsageError } from './exit-codes.js';
import { stringFlag, cliActor, configPath, JSON_OPTION, usageLine, type CommandSpec, type Parsed } from './spec.js';

/*
 * `lintel people put|delete` and `lintel cards put|remove`: the provisioning API's use cases
 * (src/store/people-admin.ts) from a shell, validated by the API's own schemas, so a flag and a
 * JSON field can never mean two things. Changes are audited as "cli:user@host".
 */


const VALIDITY = {
  'valid-from': { type: 'string', help: 'ISO 8601 start (with offset); omitted: open' },
  'valid-to': { type: 'string', help: 'ISO 8601 end, exclusive; omitted: open' },
} as const;

function valid<S extends z.ZodType>(command: CommandSpec, schema: S, input: unknown, label = 'input'): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UsageError(`${issue.path.join('.') || label}: ${issue.message}\n${usageLine(command)}`);
  }
  return r.data;
}

const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function describe(person: PersonView): string {
  const cards = person.cards.map((c) => `${maskCredential(c.number)} ${c.state}`).join(', ') || 'no card (pending)';
  const groups = person.groups.map((g) => g.group).join(', ') || 'none';
  return `${person.email}${person.name ? ` (${person.name})` : ''}: ${person.state}; groups: ${groups}; cards: ${cards}`;
}

/** What each refusal of a use case means to the shell: the operator's input (2) or the data as it is (1). */
function run(p: Parsed, command: CommandSpec, fn: () => Outcome | boolean, verb: string): number {
  try {
    const out = fn();
    if (typeof out === 'boolean') return EXIT.ok;
    console.log(p.values.json ? JSON.stringify(out.person, null, 2) : `${out.created ? 'created' : out.changed ? verb : 'unchanged'}: ${describe(out.person)}`);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof UnknownGroupError || err instanceof BadPeriodError) throw new UsageError(`${err.message}\n${usageLine(command)}`);
    if (err instanceof CredentialConflictError) {
      console.error(`card ${maskCredential(err.number)} belongs to another person: remove it there first (nothing changed)`);
      return EXIT.failure;
    }
    if (err instanceof UnknownCardError) {
      console.error(`${err.message} (nothing changed)`);
      return EXIT.failure;
    }
    throw err;
  }
}

function emailOf(command: CommandSpec, p: Parsed): string {
  return valid(command, Email, p.positionals[0]!.trim(), 'EMAIL');
}

function cardOf(command: CommandSpec, raw: string, format: Parameters<typeof normalizeImportedCard>[1]): string {
  const read = normalizeImportedCard(raw, format);
  if (!read.ok) throw new UsageError(`card: not a valid ${format} card number (${read.reason})\n${usageLine(command)}`);
  return read.number;
}

export function provisionCommands(): CommandSpec[] {
  const personPut: CommandSpec = {
    name: 'people put',
    args: 'EMAIL [--name N] [--state active|suspended] [--groups G1,G2] [--valid-from T] [--valid-to T] [-c FILE] [--json]',
    summary: 'Create or update a person to exactly this (as PUT /api/v1/people/EMAIL): omitted fields are cleared.',
    details: 'Cards are untouched (lintel cards put). A repeated identical put changes nothing.',
    positionals: [1, 1],
    options: { name: { type: 'string', help: 'full name' }, state: { type: 'string', help: 'active (default) or suspended' }, groups: { type: 'string', help: 'standing access groups, comma-separated' }, ...VALIDITY, ...JSON_OPTION },
    run: (p) => {
      const email = emailOf(personPut, p);
      const groups = stringFlag(p, 'groups')?.split(',').map((g) => g.trim()).filter((g) => g !== '');
      const b = valid(personPut, PersonPut, defined({ name: stringFlag(p, 'name'), state: stringFlag(p, 'state'), groups, validFrom: stringFlag(p, 'valid-from'), validTo: stringFlag(p, 'valid-to') }));
      const input = personInput(b);
      return withStore(configPath(p.values.config), (store, cfg) =>
        run(p, personPut, () => putPerson(store, email, input, { actor: cliActor(), now: Date.now() }, new Set(Object.keys(cfg.accessGroups))), 'updated'),
      );
    },
  };
  const personDelete: CommandSpec = {
    name: 'people delete',
    args: 'EMAIL [-c FILE]',
    summary: 'Delete a person with their cards, grants and memberships.',
    details: 'Exit 1 when there is no such person.',
    positionals: [1, 1],
    run: (p) => {
      const email = emailOf(personDelete, p);
      const done = withStore(configPath(p.values.config), (store) => deletePerson(store, email, { actor: cliActor(), now: Date.now() }));
      if (!done) console.error(`no person ${email}`);
      else console.log(`deleted ${email}`);
      return done ? EXIT.ok : EXIT.failure;
    },
  };
  const cardPut: CommandSpec = {
    name: 'cards put',
    args: 'EMAIL CARD [--format F] [--state active|disabled|lost] [--valid-from T] [--valid-to T] [-c FILE] [--json]',
    summary: "Give the person a card, or set its state (as PUT /api/v1/people/EMAIL/cards/CARD).",
    details: 'A card that belongs to someone else is refused (exit 1), never moved. Disabling or losing a card voids the holder\'s member tokens.',
    positionals: [2, 2],
    options: { format: { type: 'string', help: 'decimal (default), hex-msb, hex-lsb, wiegand26, wiegand34, wiegand37, raw-bits' }, state: { type: 'string', help: 'active (default), disabled or lost' }, ...VALIDITY, ...JSON_OPTION },
    run: (p) => {
      const email = emailOf(cardPut, p);
      const b = valid(cardPut, CardPut, defined({ format: stringFlag(p, 'format'), state: stringFlag(p, 'state'), validFrom: stringFlag(p, 'valid-from'), validTo: stringFlag(p, 'valid-to') }));
      const number = cardOf(cardPut, p.positionals[1]!, b.format);
      return withStore(configPath(p.values.config), (store) =>
        run(p, cardPut, () => putCard(store, email, number, cardInput(b), { actor: cliActor(), now: Date.now() }), 'updated'),
      );
    },
  };
  const cardRemove: CommandSpec = {
    name: 'cards remove',
    args: 'EMAIL CARD [--format F] [-c FILE] [--json]',
    summary: 'Take a card away from the person (their member tokens are voided if it was active).',
    details: 'Exit 1 when the person does not hold that card.',
    positionals: [2, 2],
    options: { format: { type: 'string', help: 'how CARD is written (default decimal)' }, ...JSON_OPTION },
    run: (p) => {
      const email = emailOf(cardRemove, p);
      const { format } = valid(cardRemove, CardPut.pick({ format: true }), defined({ format: stringFlag(p, 'format') }));
      const number = cardOf(cardRemove, p.positionals[1]!, format);
      return withStore(configPath(p.values.config), (store) => run(p, cardRemove, () => deleteCard(store, email, number, { actor: cliActor(), now: Date.now() }), 'removed the card'));
    },
  };
  return [personPut, personDelete, cardPut, cardRemove];
}
