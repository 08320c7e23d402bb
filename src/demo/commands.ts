import type { Gateway } from '../gateway.js';
import type { UpstreamSimulator } from '../simulator/upstream-simulator.js';

/**
 * The demo's `/commands`, typed on the same terminal that acts as the doors' readers.
 * ConsoleRouter decides first which lines are commands and which are reads.
 */
export class DemoCommands {
  private gateway: Gateway | null = null;
  private lastBooking: string | null = null;

  constructor(private readonly deps: { platform: UpstreamSimulator; out: (line: string) => void; timeZone: string }) {}

  attach(gateway: Gateway): void {
    this.gateway = gateway;
  }

  printHelp(): void {
    this.deps.out(
      [
        'Type a card number and Enter, as a badge at the current door\'s reader (the people above);',
        'anything else typed is not sent.',
        '  /scan CODE             a QR scan: V7K2-99QX (checked-in visitor), EXPT-0001 (expected),',
        '                         GONE-0002 (checked out), or a member QR token from /qr (pasting it works too)',
        '  /door NAME             read at another door from now on (front, orion); @NAME CARD for one read',
        '  /book EMAIL [MINUTES]  book Room Orion (R-101) on the booking platform from now; its callback grants access',
        '  /cancel                cancel the last booking (access is revoked)',
        '  /qr EMAIL              issue a member QR token (paste it back to scan it)',
        '  /status                gateway health and counters',
        '  /help                  this text;  Ctrl-D or Ctrl-C quits',
      ].join('\n'),
    );
  }

  /** One `/command` line; a failure is printed, never thrown. */
  handle(line: string): void {
    const [cmd, ...args] = line.trim().split(/\s+/);
    try {
      this.run(cmd!, args);
    } catch (err) {
      this.deps.out(`  ${(err as Error).message}`);
    }
  }

  private run(cmd: string, args: string[]): void {
    const { out, platform } = this.deps;
    switch (cmd) {
      case '/help':
        return this.printHelp();
      case '/book': {
        const email = args[0];
        if (!email) throw new Error('usage: /book EMAIL [MINUTES]');
        const minutes = Number(args[1] ?? 60);
        if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) throw new Error('MINUTES must be 1..1440');
        const start = Date.now();
        const end = start + minutes * 60_000;
        this.lastBooking = platform.createAppointment({
          resourceId: 'R-101',
          start,
          end,
          organizer: { email, name: email.split('@')[0] },
        });
        out(`  platform: booking ${this.lastBooking} for ${email}, Room Orion, ${this.clock(start)}–${this.clock(end)}; callback on its way`);
        out('  (access opens 30 minutes before and closes 30 minutes after; try the card now)');
        return;
      }
      case '/cancel':
        if (!this.lastBooking) throw new Error('no booking to cancel');
        platform.cancelAppointment(this.lastBooking);
        out(`  platform: booking ${this.lastBooking} cancelled; callback on its way`);
        this.lastBooking = null;
        return;
      case '/qr': {
        const email = args[0];
        if (!email || !this.gateway?.qrIssuer) throw new Error('usage: /qr EMAIL');
        const t = this.gateway.qrIssuer(email);
        out(`  member QR token (valid until ${this.clock(t.expiresAt)}):\n  ${t.token}`);
        return;
      }
      case '/status': {
        const s = this.gateway?.status();
        if (!s) return;
        out(`  health ${s.health}; MQTT ${s.mqtt.connected ? 'connected' : 'down'}; platform ${s.upstream?.state ?? 'off'}; ` +
          `${s.index.cards} cards, ${s.index.grants} grants`);
        return;
      }
      default:
        throw new Error(`unknown command ${cmd}; /help lists them`);
    }
  }

  private clock(ms: number): string {
    return new Date(ms).toLocaleTimeString('en-GB', { timeZone: this.deps.timeZone, hour: '2-digit', minute: '2-digit' });
  }
}
