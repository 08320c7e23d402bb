import { iso } from '../store/person-view.js';
import type { Config } from '../config/schema.js';
import { GroupsRepository, type MembershipRow } from '../store/groups-repository.js';
import { PeopleRepository } from '../store/people-repository.js';
import type { Store } from '../store/store.js';
import { withStore } from './cli-store.js';
import { EXIT, UsageError } from './exit-codes.js';
import { printResult, configPath, JSON_OPTION, usageLine, type CommandSpec } from './spec.js';

/*
 * `lintel groups list|show`: the access groups of the configuration and who holds them, read
 * from person_groups whatever gave the membership (the card list's staff groups, a plan
 * subscription, the API). The groups themselves are configuration, so an unknown one is the
 * operator's input (exit 2, as an unknown group is for `subscriptions put`), not missing data.
 * Members are named by email; a subscription's membership by its subscription id, never by a
 * row id. The staff source id is the import's internal key and is left out.
 */

export interface GroupMembership {
  email: string;
  name: string | null;
  /** The person's own state: a suspended member holds the group but opens nothing. */
  state: 'active' | 'suspended';
  source: string;
  /** The subscription that gave it; null for any other source. */
  subscriptionId: string | null;
  validFrom: string | null;
  validTo: string | null;
  /** The person's own validity (people put --valid-from/--valid-to): outside it no membership opens anything. */
  personValidFrom: string | null;
  personValidTo: string | null;
  /** Whether both the membership's window and the person's validity hold `now`. */
  current: boolean;
}

export interface GroupSummary {
  id: string;
  zones: { zone: string; schedule: string | null }[];
  lockdownOverride: boolean;
  firstPersonIn: boolean;
  /** People holding the group at this moment (membership and person valid), from any source, each once. */
  holdersNow: number;
}

const inWindow = (r: { valid_from: number | null; valid_to: number | null }, now: number) => (r.valid_from === null || r.valid_from <= now) && (r.valid_to === null || now < r.valid_to);

/** Every membership of the group, by email then source; reads only (the store is not written). */
export function groupMembers(store: Store, groupId: string, now: number): GroupMembership[] {
  const groups = new GroupsRepository(store.db);
  const people = new PeopleRepository(store.db, undefined);
  const out: GroupMembership[] = [];
  for (const personId of groups.members(groupId)) {
    const person = people.byId(personId);
    if (person === undefined) continue;
    for (const row of groups.ofPerson(personId).filter((r: MembershipRow) => r.group_id === groupId)) {
      out.push({
        email: person.email,
        name: person.name,
        state: person.state,
        source: row.source,
        subscriptionId: row.source === 'subscription' ? row.source_id : null,
        validFrom: iso(row.valid_from),
        validTo: iso(row.valid_to),
        personValidFrom: iso(person.valid_from),
        personValidTo: iso(person.valid_to),
        current: inWindow(row, now) && inWindow(person, now),
      });
    }
  }
  return out.sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : a.source.localeCompare(b.source)));
}

export function groupSummaries(store: Store, cfg: Pick<Config, 'accessGroups'>, now: number): GroupSummary[] {
  return Object.entries(cfg.accessGroups).map(([id, g]) => ({
    id,
    zones: g.zones.map((z) => ({ zone: z.zone, schedule: z.schedule ?? null })),
    lockdownOverride: g.lockdownOverride,
    firstPersonIn: g.firstPersonIn,
    holdersNow: new Set(groupMembers(store, id, now).filter((m) => m.current).map((m) => m.email)).size,
  }));
}

function describeSummary(g: GroupSummary): string {
  const zones = g.zones.map((z) => `${z.zone} ${z.schedule === null ? 'at any time' : `on ${z.schedule}`}`).join(', ');
  const flags = [g.lockdownOverride ? 'lockdown override' : '', g.firstPersonIn ? 'first person in' : ''].filter((f) => f !== '');
  return `${g.id}${flags.length === 0 ? '' : ` (${flags.join(', ')})`}: ${zones}; ${g.holdersNow} ${g.holdersNow === 1 ? 'person holds' : 'people hold'} it now`;
}

function describeMember(m: GroupMembership): string {
  const from = m.source === 'subscription' ? `subscription ${m.subscriptionId}` : m.source;
  const window = m.validFrom === null && m.validTo === null ? 'always' : `from ${m.validFrom ?? 'open'} until ${m.validTo ?? 'open'}`;
  const person = m.personValidFrom === null && m.personValidTo === null ? '' : `person valid from ${m.personValidFrom ?? 'open'} until ${m.personValidTo ?? 'open'}`;
  const notes = [m.current ? 'now' : 'not now', person, m.state === 'suspended' ? 'person suspended' : ''].filter((n) => n !== '');
  return `  ${m.email}  ${from}  ${window}  (${notes.join(', ')})`;
}


export function groupCommands(): CommandSpec[] {
  const list: CommandSpec = {
    name: 'groups list',
    args: '[-c FILE] [--json]',
    summary: 'Each configured access group: its zones and how many people hold it now (any source).',
    positionals: [0, 0],
    options: JSON_OPTION,
    run: (p) =>
      withStore(configPath(p.values.config), (store, cfg) => {
        const all = groupSummaries(store, cfg, Date.now());
        printResult(p, all, all.length === 0 ? 'no access groups configured' : all.map(describeSummary).join('\n'));
        return EXIT.ok;
      }),
  };
  const show: CommandSpec = {
    name: 'groups show',
    args: 'GROUP [-c FILE] [--json]',
    summary: "An access group's members: email, source (staff, subscription, …) and validity, now and later.",
    details: 'Exit 2 when the configuration has no such group.',
    positionals: [1, 1],
    options: JSON_OPTION,
    run: (p) =>
      withStore(configPath(p.values.config), (store, cfg) => {
        const id = p.positionals[0]!;
        if (!Object.hasOwn(cfg.accessGroups, id)) throw new UsageError(`unknown access group "${id}"\n${usageLine(show)}`);
        const members = groupMembers(store, id, Date.now());
        const head = `access group ${id}: ${members.length === 0 ? 'no members' : `${new Set(members.map((m) => m.email)).size} member(s)`}`;
        printResult(p, { id, members }, [head, ...members.map(describeMember)].join('\n'));
        return EXIT.ok;
      }),
  };
  return [list, show];
}
