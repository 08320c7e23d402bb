import type { UpstreamAppointmentWire as UpstreamAppointment, UpstreamResource } from '../upstream/schemas.js';
import { datesTouched, formatInZone } from '../upstream/tz-dates.js';

/*
 * The simulated platform's bookings and the change events they cause, as the platform would
 * emit them: `dates` names every local date the change touches (old and new ones for a move).
 */

export interface SimResource extends UpstreamResource {
  timeZone: string;
}

export interface SimPerson {
  email: string;
  name?: string;
}

export interface SimAppointment {
  appointmentId: string;
  resourceId: string;
  status: 'confirmed' | 'cancelled';
  /** ms since epoch */
  start: number;
  end: number;
  organizer: SimPerson;
  attendees: SimPerson[];
  updatedAt: number;
}

export interface SimEvent {
  type: 'appointment.created' | 'appointment.updated' | 'appointment.cancelled';
  resourceId: string;
  appointmentId: string;
  dates: string[];
  occurredAt: string;
}

export type AppointmentPatch = Partial<Pick<SimAppointment, 'resourceId' | 'start' | 'end' | 'organizer' | 'attendees'>>;

export class BookingModel {
  readonly resources = new Map<string, SimResource>();
  readonly appointments = new Map<string, SimAppointment>();
  /** `gone`: a cancelled appointment disappears from daily lists instead of being listed. */
  cancelledMode: 'listed' | 'gone' = 'listed';
  private counter = 9000;
  /** Appointment ids per resource and dates per appointment object: keeps daily lists cheap at 10,000 bookings. */
  private readonly byResource = new Map<string, Set<string>>();
  private readonly dateCache = new WeakMap<SimAppointment, string[]>();
  private readonly wireCache = new WeakMap<SimAppointment, UpstreamAppointment>();

  constructor(private readonly now: () => number) {}

  zoneOf(resourceId: string): string {
    const r = this.resources.get(resourceId);
    if (!r) throw new Error(`unknown resource ${resourceId}`);
    return r.timeZone;
  }

  create(input: Omit<SimAppointment, 'appointmentId' | 'status' | 'updatedAt'> & { appointmentId?: string }): SimEvent[] {
    this.zoneOf(input.resourceId);
    const a: SimAppointment = {
      ...input,
      appointmentId: input.appointmentId ?? `A-${++this.counter}`,
      status: 'confirmed',
      updatedAt: this.now(),
    };
    this.store(a);
    return [this.event('appointment.created', a.resourceId, a.appointmentId, this.dates(a))];
  }

  update(appointmentId: string, patch: AppointmentPatch): SimEvent[] {
    const old = this.get(appointmentId);
    const next: SimAppointment = { ...old, ...patch, updatedAt: Math.max(this.now(), old.updatedAt + 1) };
    this.zoneOf(next.resourceId);
    this.byResource.get(old.resourceId)?.delete(appointmentId);
    this.store(next);
    if (next.resourceId !== old.resourceId) {
      return [
        this.event('appointment.updated', old.resourceId, appointmentId, this.dates(old)),
        this.event('appointment.updated', next.resourceId, appointmentId, this.dates(next)),
      ];
    }
    const dates = [...new Set([...this.dates(old), ...this.dates(next)])].sort();
    return [this.event('appointment.updated', next.resourceId, appointmentId, dates)];
  }

  cancel(appointmentId: string): SimEvent[] {
    const old = this.get(appointmentId);
    const next: SimAppointment = { ...old, status: 'cancelled', updatedAt: Math.max(this.now(), old.updatedAt + 1) };
    this.store(next);
    return [this.event('appointment.cancelled', next.resourceId, appointmentId, this.dates(next))];
  }

  /** Section 5: every appointment of the resource touching the local date, spanning midnight or not. */
  dailyList(resourceId: string, date: string): { resourceId: string; date: string; timeZone: string; appointments: UpstreamAppointment[] } {
    const tz = this.zoneOf(resourceId);
    const appointments: UpstreamAppointment[] = [];
    for (const id of this.byResource.get(resourceId) ?? []) {
      const a = this.appointments.get(id)!;
      if (a.status === 'cancelled' && this.cancelledMode === 'gone') continue;
      if (!this.dates(a).includes(date)) continue;
      let wire = this.wireCache.get(a);
      if (!wire) {
        wire = {
          appointmentId: a.appointmentId,
          status: a.status,
          start: formatInZone(a.start, tz),
          end: formatInZone(a.end, tz),
          organizer: a.organizer,
          attendees: a.attendees,
          updatedAt: formatInZone(a.updatedAt, tz),
        };
        this.wireCache.set(a, wire);
      }
      appointments.push(wire);
    }
    appointments.sort((x, y) => Date.parse(x.start) - Date.parse(y.start) || x.appointmentId.localeCompare(y.appointmentId));
    return { resourceId, date, timeZone: tz, appointments };
  }

  private get(appointmentId: string): SimAppointment {
    const a = this.appointments.get(appointmentId);
    if (!a) throw new Error(`unknown appointment ${appointmentId}`);
    return a;
  }

  private store(a: SimAppointment): void {
    this.appointments.set(a.appointmentId, a);
    let ids = this.byResource.get(a.resourceId);
    if (!ids) this.byResource.set(a.resourceId, (ids = new Set()));
    ids.add(a.appointmentId);
  }

  private dates(a: SimAppointment): string[] {
    let dates = this.dateCache.get(a);
    if (!dates) this.dateCache.set(a, (dates = datesTouched(a.start, a.end, this.zoneOf(a.resourceId))));
    return dates;
  }

  private event(type: SimEvent['type'], resourceId: string, appointmentId: string, dates: string[]): SimEvent {
    return { type, resourceId, appointmentId, dates, occurredAt: formatInZone(this.now(), this.zoneOf(resourceId)) };
  }
}
