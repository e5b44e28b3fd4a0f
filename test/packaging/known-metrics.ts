/**
 * The metric names the dashboard and the alert rules may use: whatever the
 * worker's real registry exports (slotline's own and prom-client's process and
 * Node metrics), and Prometheus's `up`.
 */
import { createMetrics } from '../../src/observe/metrics.ts';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface KnownMetric {
  name: string;
  type: MetricType;
}

/** Every metric the worker's registry exports: slotline's own and prom-client's process and Node.js defaults. */
const REGISTRY: KnownMetric[] = createMetrics({ multi: false })
  .registry.getMetricsAsArray()
  .map((metric) => ({ name: metric.name, type: (metric as unknown as { type: MetricType }).type }));

/** Series Prometheus makes itself for every target. */
const PROMETHEUS: KnownMetric[] = [{ name: 'up', type: 'gauge' }];

export const KNOWN_METRICS: readonly KnownMetric[] = [...REGISTRY, ...PROMETHEUS];

/** The series names a metric exposes: a histogram's _bucket, _sum and _count, a summary's _sum and _count. */
export function seriesNames(metric: KnownMetric): string[] {
  if (metric.type === 'histogram') return ['_bucket', '_sum', '_count'].map((s) => metric.name + s);
  if (metric.type === 'summary') return [metric.name, metric.name + '_sum', metric.name + '_count'];
  return [metric.name];
}
