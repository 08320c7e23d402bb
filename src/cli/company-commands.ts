import { iso } from '../store/person-view.js';
import { z } from 'zod';
import { Email, NaturalId } from '../api/v1/schemas.js';
import { UnknownGroupError } from '../store/admin-errors.js';
import { deleteCompany, getCompany, joinCompany, leaveCompany, putCompany, UnknownCompanyError, type CompanyView } from '../store/company-admin.js';
import type { Store } from '../store/store.js';
import { cancelSubscription, deleteSubscription, getSubscription, listSubscriptions, MAX_PAGE, putSubscription, UnknownSubscriptionError, type SubscriptionView } from '../store/subscription-admin.js';
import { InvalidInputError } from '../store/subscription-rows.js';
import { withStore } from './cli-store.js';
import { EXIT, UsageError } from './exit-codes.js';
import { checkedArg, printResult, stringFlag, cliActor, configPath, JSON_OPTION, usageLine, type CommandSpec, type Parsed } from './spec.js';

/*
 * `lintel companies …` and `lintel subscriptions …`: the API's company and subscription use cases
 * (store/company-admin.ts, store/subscription-admin.ts) from a shell, so an operator does without
 * curl what a platform does with PUT. Refusals follow provision-commands.ts: the operator's input
 * (a bad instant, an unknown group, both or neither subject) is exit 2 with the usage; the data as
 * it is (no such company or subscription) is exit 1 with one line, nothing changed. Changes are
 * audited as "cli:user@host"; --json prints the API's wire shape, natural ids, never a row id.
 */


// The id rule is the API's (schemas.ts); the flags' own limits match the API's bodies.
const Name = z.string().trim().min(1).max(200);
const Instant = z.iso.datetime({ offset: true });
const Groups = z.array(z.string().min(1).max(100)).min(1).max(100);



const optional = <S extends z.ZodType>(command: CommandSpec, p: Parsed, flag: string, schema: S): z.output<S> | undefined =>
  stringFlag(p, flag) === undefined ? undefined : checkedArg(command, `--${flag}`, schema, stringFlag(p, flag));

/** ms of an ISO instant flag; omitted: null (open). */
const instant = (command: CommandSpec, p: Parsed, flag: string): number | null => (stringFlag(p, flag) === undefined ? null : Date.parse(optional(command, p, flag, Instant)!));


/** The API's Company (GET /api/v1/companies/ID). */
const companyWire = (c: CompanyView) => ({ id: c.id, name: c.name, members: c.members, createdAt: iso(c.createdAt), updatedAt: iso(c.updatedAt) });
/** The API's Subscription (GET /api/v1/subscriptions/ID). */
const subscriptionWire = (s: SubscriptionView) => ({ id: s.id, ...s.subject, groups: s.groups, startsAt: iso(s.startsAt), endsAt: iso(s.endsAt), cancelledAt: iso(s.cancelledAt) });

const describeCompany = (c: CompanyView) => `company ${c.id}${c.name === null ? '' : ` (${c.name})`}: ${c.members.length === 0 ? 'no members' : `members: ${c.members.join(', ')}`}`;

function describeSubscription(s: SubscriptionView): string {
  const subject = 'email' in s.subject ? s.subject.email : `company ${s.subject.companyId}`;
  const cancelled = s.cancelledAt === null ? '' : `; cancelled at ${iso(s.cancelledAt)}`;
  return `subscription ${s.id} for ${subject}: ${s.groups.join(', ')} from ${iso(s.startsAt)} until ${iso(s.endsAt) ?? 'open'}${cancelled}`;
}

/** The use cases name fields as the API does; the operator typed the flag. */
const FLAG_OF: Record<string, string> = { startsAt: '--starts', endsAt: '--ends', cancelledAt: '--cancelled' };

const verb = (out: { created: boolean; changed: boolean }, changed = 'updated') => (out.created ? 'created' : out.changed ? changed : 'unchanged');

/** Runs a use case on the configured store; its refusals become exit 2 (the input) or 1 with one line (the data). */
function attempt(command: CommandSpec, p: Parsed, fn: (store: Store, knownGroups: ReadonlySet<string>) => number): number {
  return withStore(configPath(p.values.config), (store, cfg) => {
    try {
      return fn(store, new Set(Object.keys(cfg.accessGroups)));
    } catch (err) {
      if (err instanceof UnknownGroupError) throw new UsageError(`${err.message}\n${usageLine(command)}`);
      if (err instanceof InvalidInputError) throw new UsageError(`${FLAG_OF[err.field] ?? err.field}: ${err.message}\n${usageLine(command)}`);
      if (err instanceof UnknownCompanyError || err instanceof UnknownSubscriptionError) {
        console.error(`${err.message} (nothing changed)`);
        return EXIT.failure;
      }
      throw err;
    }
  });
}


function companySpecs(): CommandSpec[] {
  const put: CommandSpec = {
    name: 'companies put',
    args: 'ID [--name N] [-c FILE] [--json]',
    summary: 'Create a company or set its name (as PUT /api/v1/companies/ID): no --name clears it.',
    details: 'A repeated identical put changes nothing and says "unchanged".',
    positionals: [1, 1],
    options: { name: { type: 'string', help: "the company's name" }, ...JSON_OPTION },
    run: (p) => {
      const id = checkedArg(put, 'ID', NaturalId, p.positionals[0]);
      const name = optional(put, p, 'name', Name) ?? null;
      return attempt(put, p, (store) => {
        const out = putCompany(store, id, { name }, cliActor(), Date.now());
        printResult(p, companyWire(out.company), `${verb(out, 'renamed')} ${describeCompany(out.company)}`);
        return EXIT.ok;
      });
    },
  };
  const show: CommandSpec = {
    name: 'companies show',
    args: 'ID [-c FILE] [--json]',
    summary: 'A company with its member emails.',
    details: 'Exit 1 when there is no such company.',
    positionals: [1, 1],
    options: JSON_OPTION,
    run: (p) => {
      const id = checkedArg(show, 'ID', NaturalId, p.positionals[0]);
      return attempt(show, p, (store) => {
        const found = getCompany(store, id);
        if (found === undefined) throw new UnknownCompanyError(id);
        printResult(p, companyWire(found), describeCompany(found));
        return EXIT.ok;
      });
    },
  };
  const del: CommandSpec = {
    name: 'companies delete',
    args: 'ID [-c FILE]',
    summary: "Delete a company and its subscriptions: the members stay, without what those gave them.",
    details: 'Exit 1 when there is no such company.',
    positionals: [1, 1],
    run: (p) => {
      const id = checkedArg(del, 'ID', NaturalId, p.positionals[0]);
      return attempt(del, p, (store) => {
        if (!deleteCompany(store, id, cliActor(), Date.now()).changed) throw new UnknownCompanyError(id);
        console.log(`deleted company ${id}`);
        return EXIT.ok;
      });
    },
  };
  const join: CommandSpec = {
    name: 'companies join',
    args: 'ID EMAIL [--name N] [-c FILE]',
    summary: "Make the person a member (leaving any other company); the company's subscriptions apply at once.",
    details: 'An unknown person is created, pending until a card arrives; --name names them. Exit 1 when there is no such company.',
    positionals: [2, 2],
    options: { name: { type: 'string', help: 'full name of the person (created or renamed)' } },
    run: (p) => {
      const id = checkedArg(join, 'ID', NaturalId, p.positionals[0]);
      const email = checkedArg(join, 'EMAIL', Email, p.positionals[1]!.trim());
      const name = optional(join, p, 'name', Name);
      return attempt(join, p, (store) => {
        const out = joinCompany(store, id, email, name === undefined ? {} : { name }, cliActor(), Date.now());
        const how = out.movedFrom === null ? '' : ` (moved from ${out.movedFrom})`;
        const created = out.personCreated ? ' (new person, pending until a card arrives)' : '';
        console.log(out.changed ? `joined ${out.email} to company ${id}${how}${created}` : `unchanged: ${out.email} is a member of company ${id}`);
        return EXIT.ok;
      });
    },
  };
  const leave: CommandSpec = {
    name: 'companies leave',
    args: 'ID EMAIL [-c FILE]',
    summary: "Take the person out of the company: its subscriptions stop for them at once.",
    details: 'Exit 1 when there is no such company or the person is not a member of it.',
    positionals: [2, 2],
    run: (p) => {
      const id = checkedArg(leave, 'ID', NaturalId, p.positionals[0]);
      const email = checkedArg(leave, 'EMAIL', Email, p.positionals[1]!.trim());
      return attempt(leave, p, (store) => {
        const out = leaveCompany(store, id, email, cliActor(), Date.now());
        // As the API's 404 not_a_member: a leave that finds nothing to undo is worth telling a script.
        if (!out.changed) {
          console.error(`${out.email} is not a member of company ${id} (nothing changed)`);
          return EXIT.failure;
        }
        console.log(`${out.email} left company ${id}`);
        return EXIT.ok;
      });
    },
  };
  return [put, show, del, join, leave];
}

function subscriptionSpecs(): CommandSpec[] {
  const put: CommandSpec = {
    name: 'subscriptions put',
    args: 'ID (--email E [--name N] | --company C) --groups G1,G2 --starts T [--ends T] [--cancelled T] [-c FILE] [--json]',
    summary: 'Create or replace a plan subscription (as PUT /api/v1/subscriptions/ID): omitted --ends/--cancelled are cleared.',
    details:
      'Instants are ISO 8601 with an offset (2026-12-01T08:00:00Z). A person named by --email is created if unknown. ' +
      'Exit 2 on an unknown group, a bad instant, or both or neither of --email and --company; exit 1 on an unknown company.',
    positionals: [1, 1],
    options: {
      email: { type: 'string', help: 'the subscriber, when a person' },
      name: { type: 'string', help: 'name of the person (with --email)' },
      company: { type: 'string', help: 'the subscriber, when a company: every member gets the groups' },
      groups: { type: 'string', help: 'access groups, comma-separated' },
      starts: { type: 'string', help: 'access begins (ISO 8601 with offset)' },
      ends: { type: 'string', help: 'access ends, exclusive; omitted: open' },
      cancelled: { type: 'string', help: 'cancelled: access ends at this instant (may lie ahead)' },
      ...JSON_OPTION,
    },
    run: (p) => {
      const id = checkedArg(put, 'ID', NaturalId, p.positionals[0]);
      const email = optional(put, p, 'email', Email);
      const company = optional(put, p, 'company', NaturalId);
      if ((email === undefined) === (company === undefined)) throw new UsageError(`give exactly one of --email and --company\n${usageLine(put)}`);
      const name = optional(put, p, 'name', Name);
      if (name !== undefined && email === undefined) throw new UsageError(`--name goes with --email\n${usageLine(put)}`);
      const groups = checkedArg(put, '--groups', Groups, (stringFlag(p, 'groups') ?? '').split(',').map((g) => g.trim()).filter((g) => g !== ''));
      if (stringFlag(p, 'starts') === undefined) throw new UsageError(`--starts is required\n${usageLine(put)}`);
      const startsAt = instant(put, p, 'starts')!;
      const subject = company !== undefined ? { companyId: company } : { email: email!, ...(name === undefined ? {} : { name }) };
      const input = { subject, groups, startsAt, endsAt: instant(put, p, 'ends'), cancelledAt: instant(put, p, 'cancelled') };
      return attempt(put, p, (store, known) => {
        const out = putSubscription(store, id, input, cliActor(), Date.now(), known);
        printResult(p, subscriptionWire(out.subscription), `${verb(out)} ${describeSubscription(out.subscription)}`);
        return EXIT.ok;
      });
    },
  };
  const cancel: CommandSpec = {
    name: 'subscriptions cancel',
    args: 'ID [--at T] [-c FILE]',
    summary: 'Cancel a subscription: access ends at --at (default now), not before.',
    details: 'Without --at, a subscription already cancelled by now is left as it is ("unchanged"). Exit 1 when there is no such subscription.',
    positionals: [1, 1],
    options: { at: { type: 'string', help: 'the instant access ends (ISO 8601 with offset); default now' } },
    run: (p) => {
      const id = checkedArg(cancel, 'ID', NaturalId, p.positionals[0]);
      const at = instant(cancel, p, 'at');
      return attempt(cancel, p, (store) => {
        const now = Date.now();
        const before = getSubscription(store, id);
        if (before === undefined) throw new UnknownSubscriptionError(id);
        // A repeated plain `cancel` must not move an earlier cancellation to a later "now".
        if (at === null && before.cancelledAt !== null && before.cancelledAt <= now) {
          console.log(`unchanged ${describeSubscription(before)}`);
          return EXIT.ok;
        }
        const out = cancelSubscription(store, id, at ?? now, cliActor(), now);
        console.log(`${verb(out, 'cancelled')} ${describeSubscription(out.subscription)}`);
        return EXIT.ok;
      });
    },
  };
  const del: CommandSpec = {
    name: 'subscriptions delete',
    args: 'ID [-c FILE]',
    summary: 'Delete a subscription: the access it gave goes at once.',
    details: 'Exit 1 when there is no such subscription.',
    positionals: [1, 1],
    run: (p) => {
      const id = checkedArg(del, 'ID', NaturalId, p.positionals[0]);
      return attempt(del, p, (store) => {
        if (!deleteSubscription(store, id, cliActor(), Date.now()).changed) throw new UnknownSubscriptionError(id);
        console.log(`deleted subscription ${id}`);
        return EXIT.ok;
      });
    },
  };
  const show: CommandSpec = {
    name: 'subscriptions show',
    args: 'ID [-c FILE] [--json]',
    summary: 'One subscription: subject, groups, start, end, cancellation.',
    details: 'Exit 1 when there is no such subscription.',
    positionals: [1, 1],
    options: JSON_OPTION,
    run: (p) => {
      const id = checkedArg(show, 'ID', NaturalId, p.positionals[0]);
      return attempt(show, p, (store) => {
        const found = getSubscription(store, id);
        if (found === undefined) throw new UnknownSubscriptionError(id);
        printResult(p, subscriptionWire(found), describeSubscription(found));
        return EXIT.ok;
      });
    },
  };
  const list: CommandSpec = {
    name: 'subscriptions list',
    args: '[--email E] [--company C] [-c FILE] [--json]',
    summary: "Every subscription in id order, a person's own (--email) or a company's (--company).",
    positionals: [0, 0],
    options: { email: { type: 'string', help: "only this person's own subscriptions" }, company: { type: 'string', help: "only this company's" }, ...JSON_OPTION },
    run: (p) => {
      const email = optional(list, p, 'email', Email);
      const companyId = optional(list, p, 'company', NaturalId);
      return attempt(list, p, (store) => {
        // All pages: a shell reader wants the whole list, the cursor is the API's business.
        const all: SubscriptionView[] = [];
        let cursor: string | null = null;
        do {
          const page = listSubscriptions(store, { limit: MAX_PAGE, ...(email === undefined ? {} : { email }), ...(companyId === undefined ? {} : { companyId }), ...(cursor === null ? {} : { cursor }) });
          all.push(...page.subscriptions);
          cursor = page.nextCursor;
        } while (cursor !== null);
        printResult(p, all.map(subscriptionWire), all.length === 0 ? 'no subscriptions' : all.map(describeSubscription).join('\n'));
        return EXIT.ok;
      });
    },
  };
  return [put, cancel, del, show, list];
}

export function companyCommands(): CommandSpec[] {
  return [...companySpecs(), ...subscriptionSpecs()];
}
