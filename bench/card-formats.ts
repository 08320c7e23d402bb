import type { CardFormat } from '../src/config/schema.js';
import { encodeWiegand, parseCardRead } from '../src/readers/card-formats.js';

/*
 * parseCardRead throughput and latency per format, on realistic lines (what readers print,
 * with the CRLF still on). A single call takes tens of nanoseconds, below what one
 * hrtime.bigint() pair can resolve honestly, so latency is measured per batch of BATCH calls
 * and reported per call; p50/p99 are over batches. Run: node dist/bench/card-formats.js
 */

const BATCH = 100;
const BATCHES = 5_000;
const WARMUP_CALLS = 200_000;
const SAMPLES = 1_024;

/** Deterministic inputs (xorshift), so runs compare. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const rand = rng(0x1badcafe);
const int = (max: number) => Math.floor(rand() * (max + 1));
const hexBytes = (n: number, sep: string) =>
  Array.from({ length: n }, () => int(255).toString(16).padStart(2, '0').toUpperCase()).join(sep);

const generators: Record<CardFormat, () => string> = {
  decimal: () => `${String(int(4_294_967_295)).padStart(10, '0')}\r\n`,
  'hex-msb': () => `${hexBytes(rand() < 0.5 ? 4 : 7, ':')}\r\n`,
  'hex-lsb': () => `${hexBytes(4, '')}\r\n`,
  wiegand26: () => `${encodeWiegand('wiegand26', int(255), int(65_535))}\r\n`,
  wiegand34: () => `${encodeWiegand('wiegand34', int(65_535), int(65_535))}\r\n`,
  wiegand37: () => `${encodeWiegand('wiegand37', int(65_535), int(524_287))}\r\n`,
  'raw-bits': () => `${Array.from({ length: 64 }, () => (rand() < 0.5 ? '0' : '1')).join('')}\r\n`,
};

interface Row {
  format: CardFormat;
  callsPerSec: number;
  p50ns: number;
  p99ns: number;
  okShare: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function measure(format: CardFormat): Row {
  const gen = generators[format];
  const inputs = Array.from({ length: SAMPLES }, gen);
  let sink = 0; // consumed below so the calls cannot be optimised away
  for (let i = 0; i < WARMUP_CALLS; i++) {
    const r = parseCardRead(inputs[i % SAMPLES] as string, format);
    sink += r.ok ? r.number.length : 1;
  }
  const perCall = new Float64Array(BATCHES);
  let ok = 0;
  let index = 0;
  const start = process.hrtime.bigint();
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) {
      const r = parseCardRead(inputs[index++ % SAMPLES] as string, format);
      if (r.ok) {
        ok++;
        sink += r.number.length;
      }
    }
    perCall[b] = Number(process.hrtime.bigint() - t0) / BATCH;
  }
  const totalNs = Number(process.hrtime.bigint() - start);
  if (sink < 0) console.log(sink);
  perCall.sort();
  const calls = BATCH * BATCHES;
  return { format, callsPerSec: calls / (totalNs / 1e9), p50ns: percentile(perCall, 0.5), p99ns: percentile(perCall, 0.99), okShare: ok / calls };
}

const rows = (Object.keys(generators) as CardFormat[]).map(measure);
console.log(`parseCardRead — ${BATCH * BATCHES} calls per format, node ${process.version}, per-call ns from ${BATCH}-call batches`);
console.log(['format'.padEnd(10), 'calls/s'.padStart(12), 'p50 ns'.padStart(8), 'p99 ns'.padStart(8), 'ok'.padStart(6)].join('  '));
for (const r of rows) {
  console.log(
    [
      r.format.padEnd(10),
      Math.round(r.callsPerSec).toLocaleString('en-US').padStart(12),
      r.p50ns.toFixed(0).padStart(8),
      r.p99ns.toFixed(0).padStart(8),
      `${(r.okShare * 100).toFixed(0)}%`.padStart(6),
    ].join('  '),
  );
}
