import type { Context } from 'hono';
/*
 * Who is at the console: a local operator account (signed in at /login), or the admin API token
 * presented as a Bearer header. Roles nest: admin ⊃ operator ⊃ viewer. Everything the console,
 * the operator API and the MQTT commands do is checked against one table (actions.ts
 * REQUIRED_ROLE), so a role means the same on every channel.
 */

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Operator {
  /** The account name (`lintel operator add NAME`); `token` for the admin API token. */
  readonly name: string;
  readonly role: Role;
}

/** Where an action came from: it is audited with the actor (`console:alice`, `mqtt:alice`, `api:alice`). */
export type Channel = 'console' | 'api' | 'mqtt';

export interface Actor extends Operator {
  readonly via: Channel;
}

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** The actor as written in change_audit.actor and site_state: never a row id. */
export function actorLabel(a: Actor): string {
  return `${a.via}:${a.name}`;
}

/**
 * The Hono variables the console's session middleware sets on every console request
 * (http/console-auth): `operator` is null for an anonymous visitor (loopback without login),
 * `csrf` the token every form of this session must carry back (null when anonymous).
 */
export type ConsoleEnv = { Variables: { operator: Operator | null; csrf: string | null } };

/**
 * Who is asking, on a route of a part (mounted as a plain Hono under the gateway's app, whose
 * operator auth set the variable): null when nobody signed in or presented the admin token.
 */
export function operatorOf(c: Context): Operator | null {
  return (c as unknown as Context<ConsoleEnv>).get('operator') ?? null;
}
