/**
 * The booking platform for the hardening bench's load phase, in its own process (on a site it is
 * another machine, and its signing and HTTP must not run on the bench's clock). The project's
 * simulator, with the resources the gateway maps; the gateway subscribes to it on start.
 *
 * Prints `url <base URL>`, then waits on stdin for `go <per second> <ms>`: it then creates that
 * many appointments per second, each of which the simulator delivers as a signed callback to
 * every live subscription (upstream-api.md section 4, src/simulator/delivery.ts), prints
 * `started`, and when the time is up and every callback is answered prints `done <json>`.
 * Usage: node dist/bench/hardening-load.js <resources> <token>
 */
import { createInterface } from 'node:readline';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator.js';
import { systemClock } from '../src/util/clock.js';

const resources = Number(process.argv[2] ?? 50);
const token = process.argv[3] ?? 'bench-token';
const sim = new UpstreamSimulator({ clock: systemClock, tokens: [token] });
const url = await sim.start();
for (let i = 0; i < resources; i++) sim.addResource({ resourceId: `R-${i}`, timeZone: 'Europe/Amsterdam' });
process.stdout.write(`url ${url}\n`);

async function generate(perSec: number, ms: number): Promise<void> {
  const subscriptions = sim.liveSubscriptions().length;
  const attemptsBefore = sim.delivery.attempts.length;
  const start = performance.now();
  const now = Date.now();
  let created = 0;
  process.stdout.write('started\n');
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - start;
      const due = Math.min(Math.floor((elapsed * perSec) / 1000), Math.floor((ms * perSec) / 1000));
      for (; created < due; created++) {
        // Today and tomorrow, spread over the resources: the dates the gateway keeps and refreshes.
        const begins = now + 3_600_000 + (created % 48) * 1_800_000;
        sim.createAppointment({
          resourceId: `R-${created % resources}`,
          start: begins,
          end: begins + 1_800_000,
          organizer: { email: `organizer${created % 500}@load.example` },
          attendees: [{ email: `guest${created % 2000}@load.example` }],
        });
      }
      if (elapsed >= ms) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  const sentMs = performance.now() - start;
  await sim.delivery.idle();
  const attempts = sim.delivery.attempts.slice(attemptsBefore);
  const ok = attempts.filter((a) => typeof a.result === 'number' && a.result >= 200 && a.result < 300).length;
  const summary = { subscriptions, created, sentMs: Math.round(sentMs), callbacks: attempts.length, ok, failed: attempts.length - ok };
  process.stdout.write(`done ${JSON.stringify(summary)}\n`);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = /^go (\d+) (\d+)$/.exec(line.trim());
  if (m) void generate(Number(m[1]), Number(m[2]));
});
process.stdin.once('end', () => void sim.stop().then(() => process.exit(0)));
process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
