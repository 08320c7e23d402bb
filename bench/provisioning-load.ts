/**
 * The load side of provisioning-api.ts, in a process of its own: building a 10 MB body and
 * keeping eight requests in flight would otherwise stall the bench's own event loop, and the
 * swipe → pulse times measured there would be the bench's stalls, not the gateway's.
 *
 *   node dist/bench/provisioning-load.js BASE TOKEN bulk|subscriptions|puts COUNT
 * Prints one JSON line: { phase, count, ms, perSec }.
 */

import { setPriority } from 'node:os';

// The platform sends from another machine; on this 2-core VM its CPU (a 10 MB body built, JSON
// for thousands of requests) would otherwise be taken from the gateway it measures.
setPriority(0, 19);

const [base, token, phase, countArg] = process.argv.slice(2);
const count = Number(countArg);
const CONCURRENCY = 8;
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function pool(n: number, request: (i: number) => Promise<Response>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const res = await request(next++);
      if (res.status >= 300) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function bulk(): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(JSON.stringify({ email: `p${i}@bench.example`, name: `Person ${i}`, groups: ['members'], cards: [{ number: String(1_000_000 + i) }] }));
  const res = await fetch(`${base}/people:bulk`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-ndjson' }, body: lines.join('\n') });
  if (res.status !== 200) throw new Error(`bulk: HTTP ${res.status} ${await res.text()}`);
}

const phases: Record<string, () => Promise<void>> = {
  bulk,
  subscriptions: () =>
    pool(count, (i) =>
      fetch(`${base}/subscriptions/sub-${i}`, { method: 'PUT', headers, body: JSON.stringify({ email: `p${i}@bench.example`, groups: ['members'], startsAt: '2026-01-01T00:00:00Z', endsAt: '2027-01-01T00:00:00Z' }) }),
    ),
  puts: () => pool(count, (i) => fetch(`${base}/people/single-${i}@bench.example`, { method: 'PUT', headers, body: JSON.stringify({ name: `Single ${i}`, groups: ['members'] }) })),
};

const t0 = performance.now();
await phases[phase!]!();
const ms = performance.now() - t0;
console.log(JSON.stringify({ phase, count, ms, perSec: count / (ms / 1000) }));
