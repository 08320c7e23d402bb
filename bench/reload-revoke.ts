/**
 * What a reload that disconnects a location with `onDisconnect: revoke` costs the thread that
 * decides badges (issue 12): the gateway in-process with two locations (test/helpers/
 * locations-world.ts), BOOKINGS (default 5,000) bookings of the annex's people fetched by its
 * link, then one reload that revokes them. Prints the main thread's CPU during the reload
 * (/proc/self/task/PID/stat: that thread alone, the workers' not counted), the longest gap
 * between two 1 ms timers of the main thread meanwhile (a timer costs next to no CPU; a spin would), and whether the index had the revoke
 * when the reload resolved. Run: npm run build && node dist/bench/reload-revoke.js [bookings]
 */
import { readFileSync } from 'node:fs';
import { importCards } from '../src/store/card-import.js';
import { locationsWorld } from '../test/helpers/locations-world.js';

const BOOKINGS = Number(process.argv[2] ?? 5_000);
const cleanups: Array<() => Promise<void> | void> = [];
const until = async (f: () => boolean) => {
  while (!f()) await new Promise((r) => setTimeout(r, 20));
};
/** CPU ms of this process's main thread only (utime + stime, USER_HZ 100). */
const mainThreadCpuMs = () => {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

const w = await locationsWorld(cleanups);
try {
  const email = (i: number) => `p${i}@example.com`;
  for (let i = 0; i < BOOKINGS; i++) w.book(w.annex, 'R-AX', email(i), `A-${i}`);
  const g = await w.start(w.configFor({ connection: 'connected' }));
  importCards(g.store, `email,card\n${Array.from({ length: BOOKINGS }, (_, i) => `${email(i)},${8_000_000 + i}`).join('\n')}\n`, Date.now());
  await g.upstream!.reconcileNow();
  const grantsOf = () => g.store.db.prepare("SELECT count(*) FROM grants WHERE source = 'booking'").pluck().get() as number;
  await until(() => grantsOf() >= BOOKINGS);
  const reader = g.config.readers.find((r) => r.id === 'side-desk')!;
  const granted = () => g.index.stats().cards; // touch the index before the run
  granted();
  w.writeSite({ connection: 'disconnected', onDisconnect: 'revoke' });
  let longestGapMs = 0;
  let last = performance.now();
  let spinning = true;
  const spin = () => {
    const t = performance.now();
    longestGapMs = Math.max(longestGapMs, t - last);
    last = t;
    if (spinning) setTimeout(spin, 1);
  };
  setTimeout(spin, 1);
  const cpu0 = mainThreadCpuMs();
  const t0 = performance.now();
  await g.reloadFile(w.siteFile);
  const wallMs = performance.now() - t0;
  const cpuMs = mainThreadCpuMs() - cpu0;
  spinning = false;
  const before = g.recent.list().length;
  g.pipeline.onLine(reader, String(8_000_000));
  await until(() => g.recent.list().length > before);
  console.log(JSON.stringify({ bookings: BOOKINGS, grantsLeft: grantsOf(), reloadWallMs: Math.round(wallMs), mainThreadCpuMs: cpuMs, longestLoopGapMs: Math.round(longestGapMs * 10) / 10, firstSwipeAfter: g.recent.list()[0]!.reason }));
} finally {
  for (const c of cleanups.reverse()) await c();
}
