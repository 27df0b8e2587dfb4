// Builds small, valid results files for tests: one entry per repetition, with the per-repetition
// opsPerSec and p99 latency a test cares about and plausible values everywhere else.
import { SCHEMA_VERSION } from '../../schema/results.js';
import type { Cell, CellStatus, Family, Protocol, Results, Settings } from '../../schema/results.js';

export interface CellSpec {
  model: string;
  family?: Family;
  protocol?: Protocol;
  concurrency?: number;
  /** One value per repetition; its length is the number of repetitions. */
  opsPerSec: number[];
  /** p99 latency per repetition, µs; defaults to 1,000 µs each. */
  p99?: number[];
  /** Status of every repetition, or of each in turn. */
  status?: CellStatus | CellStatus[];
  /** Client saturation of every repetition, or of each in turn. */
  saturated?: boolean | boolean[];
}

export interface ResultsOverrides {
  runId?: string;
  schemaVersion?: number;
  settings?: Partial<Settings>;
}

/** `n` values around `center`, evenly spread over ±`spread` (a fraction): deterministic, low noise. */
export function around(center: number, n: number, spread = 0.02): number[] {
  if (n === 1) return [center];
  return Array.from({ length: n }, (_, i) => center * (1 + spread * ((2 * i) / (n - 1) - 1)));
}

export function buildResults(specs: CellSpec[], overrides: ResultsOverrides = {}): Results {
  const cells = specs.flatMap((spec) => spec.opsPerSec.map((ops, i) => buildCell(spec, i, ops)));
  const settings: Settings = {
    durationS: 5,
    warmupS: 1,
    payloadBytes: 64,
    repetitions: Math.max(0, ...specs.map((s) => s.opsPerSec.length)),
    models: [...new Set(specs.map((s) => s.model))],
    protocols: [...new Set(specs.map((s) => s.protocol ?? 'echo'))],
    concurrency: [...new Set(specs.map((s) => s.concurrency ?? 64))],
    workers: 2,
    sampleIntervalMs: 100,
    memoryBudgetBytes: 2 * 2 ** 30,
    scenarios: ['steady'],
    idleConnections: 1000,
    skipped: [],
    httpClient: 'native',
    clientThreads: 1,
    pipeline: 1,
    rates: null,
    sweepFractions: [],
    errorThreshold: 0.01,
    ...overrides.settings,
  } as Settings;
  return {
    schemaVersion: overrides.schemaVersion ?? SCHEMA_VERSION,
    runId: overrides.runId ?? 'test-run',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:10:00.000Z',
    command: 'npm run bench -- (test)',
    env: {
      node: 'v20.0.0',
      platform: 'linux',
      kernel: '6.0.0',
      cpuModel: 'Test CPU',
      cpus: 2,
      memoryBytes: 4 * 2 ** 30,
      gitCommit: null,
      pinning: { server: null, client: null, method: 'none (test)' },
    },
    settings,
    cells,
  };
}

function pick<T>(value: T | T[] | undefined, i: number, fallback: T): T {
  if (value === undefined) return fallback;
  return Array.isArray(value) ? (value[i] ?? fallback) : value;
}

function buildCell(spec: CellSpec, i: number, opsPerSec: number): Cell {
  const status = pick(spec.status, i, 'ok');
  const p99 = spec.p99?.[i] ?? 1000;
  const durationS = 5;
  return {
    model: spec.model,
    family: spec.family ?? 'async',
    protocol: spec.protocol ?? 'echo',
    scenario: 'steady',
    concurrency: spec.concurrency ?? 64,
    rate: null,
    repetition: i + 1,
    status,
    ...(status === 'ok' ? {} : { reason: 'synthetic failure' }),
    durationS,
    ops: Math.round(opsPerSec * durationS),
    opsPerSec,
    bytesPerSec: opsPerSec * 128,
    errors: { total: 0, byCode: {} },
    latencyUs: { p50: p99 / 4, p90: p99 / 2, p99, p999: p99 * 2, max: p99 * 4, mean: p99 / 3 },
    latencyUncorrectedUs: { p50: p99 / 4, p90: p99 / 2, p99, p999: p99 * 2, max: p99 * 4, mean: p99 / 3 },
    rateShortfall: null,
    reconnects: 0,
    outstanding: 0,
    window: null,
    histograms: null,
    server: {
      cpuUserS: 1,
      cpuSysS: 1,
      cpuPercent: 40,
      rssPeakBytes: 50e6,
      rssMeanBytes: 45e6,
      threadsPeak: 7,
      processesPeak: 1,
      ctxVoluntary: 100,
      ctxInvoluntary: 10,
    },
    client: {
      tool: 'native',
      threads: 1,
      cpuPercent: pick(spec.saturated, i, false) ? 95 : 50,
      cpuUsPerOp: 10,
      threadCpuPercentMax: pick(spec.saturated, i, false) ? 95 : 50,
      saturated: pick(spec.saturated, i, false),
    },
  };
}

/** A spec whose cells get `tweak(cell)` after building (server figures, scenario, sweep...). */
export type TweakedSpec = CellSpec & { tweak?: (c: Cell) => void };

/** buildResults, then each spec's tweak applied to each of its cells. */
export function buildTweaked(specs: TweakedSpec[], overrides: ResultsOverrides = {}): Results {
  const r = buildResults(specs, overrides);
  let k = 0;
  for (const s of specs) {
    for (let i = 0; i < s.opsPerSec.length; i++) {
      const cell = r.cells[k++]!; // counted whether or not this spec tweaks: the cells follow the specs
      s.tweak?.(cell);
    }
  }
  return r;
}
