import { UpstreamSimulator } from '../../src/simulator/upstream-simulator.js';
import { systemClock } from '../../src/util/clock.js';
import type { SiteOptions } from './site-config.js';

/*
 * The project's booking-platform simulator on real time, for the built process: it delivers
 * signed callbacks over loopback HTTP, and every delivery's answer is recorded by appointment,
 * so a test knows which callbacks the gateway acknowledged (2xx) before it was killed.
 */

export const UPSTREAM_TOKEN = 'tok-resilience';

export class UpstreamSite {
  readonly sim: UpstreamSimulator;
  /** appointmentId → true once one delivery about it was answered 2xx. */
  readonly acked = new Set<string>();
  deliveries = 0;
  failures = 0;
  private seq = 0;

  constructor(readonly resources: string[]) {
    const recording: typeof fetch = async (input, init) => {
      this.deliveries++;
      const res = await fetch(input, init);
      if (res.status >= 200 && res.status < 300) {
        try {
          const body = JSON.parse(String(init?.body)) as { appointmentId?: string };
          if (body.appointmentId) this.acked.add(body.appointmentId);
        } catch {
          // not a callback body
        }
      } else this.failures++;
      return res;
    };
    this.sim = new UpstreamSimulator({ clock: systemClock, tokens: [UPSTREAM_TOKEN], fetch: recording });
  }

  async start(): Promise<this> {
    await this.sim.start();
    for (const id of this.resources) this.sim.addResource({ resourceId: id, timeZone: 'Europe/Amsterdam' });
    return this;
  }

  /** The site config with this platform and resources mapped to doors. */
  configure(map: Record<string, string[]>): (o: SiteOptions) => SiteOptions {
    return (o) => ({
      ...o,
      upstream: { baseUrl: this.sim.baseUrl, callbackUrl: `http://127.0.0.1:${o.httpPort}/webhooks/offision`, token: UPSTREAM_TOKEN },
      resources: Object.entries(map).map(([id, doors]) => ({ id, doors })),
    });
  }

  /** A booking happening now for `email`: the platform sends `appointment.created`. */
  book(resourceId: string, email: string): string {
    const now = Date.now();
    return this.sim.createAppointment({
      appointmentId: `A-${process.pid}-${++this.seq}`,
      resourceId,
      start: now - 10 * 60_000,
      end: now + 2 * 3_600_000,
      organizer: { email },
    });
  }

  /** An update of an existing booking: another callback, without growing the daily list. */
  touch(appointmentId: string, minutes: number): void {
    const now = Date.now();
    this.sim.updateAppointment(appointmentId, { start: now - minutes * 60_000, end: now + 2 * 3_600_000 });
  }

  subscribed(): boolean {
    return this.sim.liveSubscriptions().length > 0;
  }

  async stop(): Promise<void> {
    await this.sim.stop();
  }
}
