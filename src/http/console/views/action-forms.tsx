import type { Child } from 'hono/jsx';
import { REQUIRED_ROLE, type ActionName } from '../../../console/actions.js';
import { roleAtLeast, type Operator } from '../../../console/operator.js';
import type { GatewayStatus } from '../../status.js';

/*
 * The operator's forms: one plain POST form per action to /actions/<action>, carrying the
 * session's CSRF token, so every button works without JavaScript (the answer is a redirect
 * back with a flash message). A button is only drawn for a role that may use it
 * (REQUIRED_ROLE); the server checks the role again on every POST.
 */

export interface FormContext {
  viewer: Operator | null;
  /** Empty in sections sent over /events: the live script fills it from the page's meta tag. */
  csrf: string;
}

export const may = (viewer: Operator | null, action: ActionName): boolean => viewer !== null && roleAtLeast(viewer.role, REQUIRED_ROLE[action]);

export function ActionForm(p: { ctx: FormContext; action: ActionName; label: string; danger?: boolean; children?: Child }) {
  if (!may(p.ctx.viewer, p.action)) return null;
  return (
    <form method="post" action={`/actions/${p.action}`} class="action">
      <input type="hidden" name="_csrf" value={p.ctx.csrf} />
      {p.children}
      <button type="submit" class={p.danger ? 'danger' : ''}>{p.label}</button>
    </form>
  );
}

const Hidden = (p: { name: string; value: string }) => <input type="hidden" name={p.name} value={p.value} />;

/** Alarm acknowledgement, drawn in the alarms section. */
export function AckButton({ ctx, alarm }: { ctx: FormContext; alarm: string }) {
  return <ActionForm ctx={ctx} action="alarm.acknowledge" label="acknowledge"><Hidden name="alarm" value={alarm} /></ActionForm>;
}

export function DoorActions({ ctx, doors }: { ctx: FormContext; doors: GatewayStatus['doors'] }) {
  if (!may(ctx.viewer, 'door.pulse')) return null;
  return (
    <section id="door-actions">
      <h2>Door actions</h2>
      <div class="scroll">
        <table>
          <tbody>
            {doors.map((d) => (
              <tr>
                <th>{d.name}</th>
                <td class="buttons">
                  <ActionForm ctx={ctx} action="door.pulse" label={`open ${d.id}`}><Hidden name="door" value={d.id} /></ActionForm>
                  <ActionForm ctx={ctx} action="door.hold" label="hold open">
                    <Hidden name="door" value={d.id} />
                    <label>minutes <input type="number" name="minutes" min="1" max="1440" value="15" required /></label>
                  </ActionForm>
                  <ActionForm ctx={ctx} action="door.release" label="release"><Hidden name="door" value={d.id} /></ActionForm>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

const EmailField = () => <label>email <input type="email" name="email" required maxlength={254} autocomplete="off" /></label>;

export function SiteActions({ ctx, lockdown }: { ctx: FormContext; lockdown: boolean | null }) {
  if (!may(ctx.viewer, 'lockdown.set')) return null;
  return (
    <section id="site-actions">
      <h2>Site and people</h2>
      <div class="buttons">
        {lockdown ? (
          <ActionForm ctx={ctx} action="lockdown.set" label="end lockdown"><Hidden name="on" value="false" /></ActionForm>
        ) : (
          <ActionForm ctx={ctx} action="lockdown.set" label="lock down the site" danger><Hidden name="on" value="true" /></ActionForm>
        )}
        <ActionForm ctx={ctx} action="upstream.reconcile" label="reconcile now" />
      </div>
      <div class="people-actions">
        <ActionForm ctx={ctx} action="person.suspend" label="suspend" danger><EmailField /></ActionForm>
        <ActionForm ctx={ctx} action="person.reinstate" label="reinstate"><EmailField /></ActionForm>
        <ActionForm ctx={ctx} action="person.revoke-tokens" label="revoke QR tokens"><EmailField /></ActionForm>
        <ActionForm ctx={ctx} action="antipassback.forgive" label="forgive anti-passback"><EmailField /></ActionForm>
        <ActionForm ctx={ctx} action="card.disable" label="disable card" danger>
          <EmailField />
          <label>card <input type="text" name="card" required maxlength={64} inputmode="numeric" autocomplete="off" /></label>
        </ActionForm>
      </div>
    </section>
  );
}

/** Learn mode (admins): arm a reader for one read, then give the captured card to a person. */
export function LearnActions({ ctx, readers, learned }: { ctx: FormContext; readers: GatewayStatus['readers']; learned: Record<string, unknown> | null }) {
  if (!may(ctx.viewer, 'reader.learn')) return null;
  const learn = typeof learned?.learn === 'string' ? learned.learn : null;
  return (
    <section id="learn">
      <h2>Enrol a card (learn mode)</h2>
      <ActionForm ctx={ctx} action="reader.learn" label="arm reader for one card">
        <label>reader <select name="reader" required>{readers.map((r) => <option value={r.id}>{r.id} ({r.door})</option>)}</select></label>
      </ActionForm>
      {learned ? (
        <dl class="learned" id="learned">
          {Object.entries(learned).map(([k, v]) => <><dt>{k}</dt><dd><code>{typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v)}</code></dd></>)}
        </dl>
      ) : null}
      <ActionForm ctx={ctx} action="learned.assign" label="assign learned card">
        <label>learn <input type="text" name="learn" required maxlength={64} value={learn ?? ''} autocomplete="off" /></label>
        <EmailField />
      </ActionForm>
    </section>
  );
}
