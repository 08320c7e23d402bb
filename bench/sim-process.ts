/**
 * The booking platform simulator as its own process, for benches that measure the gateway
 * and not the simulator: a real platform is another machine. Prints its base URL, then serves
 * until killed. Usage: node dist/bench/sim-process.js <resources> <appointments> <token>
 */
import { UpstreamSimulator } from '../src/simulator/upstream-simulator.js';
import { systemClock } from '../src/util/clock.js';

const [resources, appointments, token] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4] ?? 'bench-token'];
const sim = new UpstreamSimulator({ clock: systemClock, tokens: [token] });
const url = await sim.start();
for (let i = 0; i < resources; i++) sim.addResource({ resourceId: `R-${i}`, timeZone: 'Europe/Amsterdam' });
const DAY = 86_400_000;
const now = Date.now();
for (let i = 0; i < appointments; i++) {
  const start = now - DAY + Math.floor((i / appointments) * 2 * DAY);
  sim.model.create({
    resourceId: `R-${i % resources}`,
    start,
    end: start + 3_600_000,
    organizer: { email: `org${i % 3000}@bench.example` },
    attendees: [{ email: `att${i % 5000}@bench.example` }],
  });
}
process.stdout.write(`${url}\n`);
process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
