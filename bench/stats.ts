/** Shared bench helpers: percentiles over nanosecond samples, and a memory reading after GC. */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
export function percentiles(samplesNs: Float64Array | number[]): { p50: number; p99: number; p999: number; max: number } {
  const sorted = Float64Array.from(samplesNs).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: sorted[sorted.length - 1]! };
}

/** JS heap and ArrayBuffer memory after a GC (the access index keeps its tables in typed arrays). */
export function memoryMb(): { heap: number; arrayBuffers: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / 1024 / 1024, arrayBuffers: m.arrayBuffers / 1024 / 1024 };
}

export function fmtUs(ns: number): string {
  return `${(ns / 1000).toFixed(2)} µs`;
}

/**
 * Event-loop delay sampled every 10 ms: at 1 ms the histogram's timer wakes the process ~840
 * times a second (1.8 % of a core idle on this VM), more often than the work a swipe probe does,
 * and a process that wakes that often competes for the cores with the gateway it measures. A
 * stall still shows as a late sample of about its length.
 */
export const LOOP_SAMPLE_MS = 10;

export function startLoopDelay(): IntervalHistogram {
  const h = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  h.enable();
  return h;
}

/**
 * p99 and max of how late the sampling timer fired, in ms. Node records the whole interval
 * between firings, the resolution included (a 1 ms histogram on an idle loop shows p50 1.07 ms),
 * so the resolution is taken off here.
 */
export function loopLateness(h: IntervalHistogram): { p99Ms: number; maxMs: number } {
  const late = (ns: number) => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
  return { p99Ms: late(h.percentile(99)), maxMs: late(h.max) };
}
