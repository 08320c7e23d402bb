import type { Registry } from 'prom-client';
import type { LatencyBucket } from './view-model.js';

/** The decision latency histogram the metrics keep, when this build has one. */
export const DECISION_LATENCY_METRIC = 'lintel_decision_latency_seconds';

/**
 * The histogram's buckets as per-bucket counts (Prometheus keeps them cumulative), summed over
 * its labels; null when the registry has no such histogram.
 */
export function latencyFromRegistry(registry: Registry, name = DECISION_LATENCY_METRIC): () => Promise<LatencyBucket[] | null> {
  return async () => {
    const metric = registry.getSingleMetric(name);
    if (!metric) return null;
    const { values, type } = await metric.get();
    if (String(type) !== 'histogram') return null;
    const cumulative = new Map<number, number>();
    for (const v of values as Array<(typeof values)[number] & { metricName?: string }>) {
      if (v.metricName !== `${name}_bucket`) continue;
      const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
      cumulative.set(le, (cumulative.get(le) ?? 0) + v.value);
    }
    const bounds = [...cumulative.keys()].sort((a, b) => a - b);
    let below = 0;
    return bounds.map((le) => {
      const total = cumulative.get(le)!;
      const count = total - below;
      below = total;
      return { le, count };
    });
  };
}
