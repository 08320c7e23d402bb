/** Shared bench helpers: percentiles over nanosecond samples, and a memory reading after GC. */
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
