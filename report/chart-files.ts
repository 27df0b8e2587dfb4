// The file name of every chart, in one table: the charts are written under these names and the
// findings and reports link to them by the same functions, so a renamed chart cannot leave a
// finding pointing at nothing.
import type { Protocol, Scenario } from '../schema/results.js';

/** The per-metric line charts (charts.ts), one per protocol, scenario and metric. */
export type MetricId = 'throughput' | 'latency-p99' | 'rss' | 'cpu-per-1k-ops' | 'pss' | 'threads-processes';

export const CHART_FILES = {
  /** A metric against concurrency; steady's charts carry no scenario in their name. */
  metric: (protocol: Protocol, scenario: Scenario, metric: MetricId): string => `${protocol}${scenario === 'steady' ? '' : `-${scenario}`}-${metric}.png`,
  ioWaitVsIdeal: (protocol: Protocol): string => `${protocol}-io-wait-vs-ideal.png`,
  ioWaitPool: (protocol: Protocol, what: 'throughput' | 'p99'): string => `${protocol}-io-wait-pool-${what}.png`,
  cpuByModel: (protocol: Protocol, what: 'throughput' | 'p99'): string => `${protocol}-cpu-${what}-by-model.png`,
  churnByModel: (protocol: Protocol, what: 'throughput' | 'connect'): string => `${protocol}-churn-${what}-by-model.png`,
  payloadBytes: (protocol: Protocol): string => `${protocol}-payload-bytes-per-second.png`,
  /** Open loop: latency against the offered rate, per variant and concurrency. */
  latencyVsRate: (protocol: Protocol, scenario: Scenario, variant: string, concurrency: number): string =>
    `${protocol}${scenario === 'steady' ? '' : `-${scenario}`}${variant ? `-${variant.replace(/ /g, '')}` : ''}-latency-vs-rate-c${concurrency}.png`,
} as const;
