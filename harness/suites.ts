// Suites: which scenarios a run covers, and at which protocols, concurrencies and models each. A
// plan is a list of slices, one or more per scenario, because the questions differ: steady needs
// the whole concurrency range, io-wait needs a concurrency at and above the pools' size, cpu one
// at the pools' size, churn one where accepting is the cost. Explicit flags replace a slice's own
// choice, so `--suite default --concurrency 16` runs every scenario of the suite at 16 only.
import type { Protocol, Scenario } from '../schema/catalog.js';
import type { NoiseProbe } from '../schema/results.js';
import { SCENARIOS } from '../schema/catalog.js';

export type BackendMode = 'pooled' | 'per-request';
export const BACKEND_MODES: readonly BackendMode[] = ['pooled', 'per-request'];
export type { BackendKind } from '../schema/work.js';
import type { BackendKind } from '../schema/work.js';

export interface Slice {
  scenario: Scenario;
  protocols: Protocol[];
  concurrency: number[];
  /** The models this slice runs (those of the plan that are listed); null: every model of the plan. */
  models: string[] | null;
  /** Models this slice leaves out even when `models` is null (dropped, like `models`, when --models is given). */
  except?: string[];
  /** io-wait: how the server reaches its backend. */
  backendConnections?: BackendMode[];
  /** io-wait: what the requests wait on (default postgres). */
  backends?: BackendKind[];
  /** io-wait pooled: the pool sizes to run, unless --db-pool says (default: the cell's connections). */
  dbPools?: number[];
  /** payload: the sizes, bytes (echo message, or the body of GET /bytes/N). */
  payloadSizes?: number[];
  /** io-wait: the backend's delay for this slice, ms, unless --backend-delay says (default: the plan's). */
  backendDelayMs?: number;
  /**
   * Open-loop cells at the same offered rates for every model of the slice: these fractions of
   * `of`'s closed-loop throughput at the same connections (so busy-poll and epoll meet the same
   * load, not each its own), each cell also reading the server's CPU before any load.
   */
  equalRate?: { of: string; fractions: number[] };
}

export type SuiteName = 'quick' | 'default' | 'full' | 'python' | 'soak' | 'ci';
export const SUITE_NAMES: readonly SuiteName[] = ['quick', 'default', 'full', 'python', 'soak', 'ci'];

export interface Suite {
  slices: Slice[];
  durationS: number;
  warmupS: number;
  /** One line for --help. */
  what: string;
  /** Where the suite's external models are listed (relative to the project), when it names any. */
  modelsFile?: string;
  /** A cell repeated through the run: its spread is the noise every finding's margin must beat. */
  noise?: NoiseProbe;
}

/** How many times the noise probe's cell runs, spread through the run: enough for a spread, few enough to be cheap. */
export const NOISE_READINGS = 5;

export const PAYLOAD_SIZES = [64, 4096, 65536];
const BOTH: Protocol[] = ['echo', 'http'];
/** The selectors and the loop beside them: enough for the idle finding (poll and epoll at the same n as steady). */
const IDLE_MODELS = ['select', 'poll', 'epoll', 'async'];
const PAYLOAD_MODELS = ['epoll', 'async', 'node-http', 'native-epoll'];
/** The pool-size question: our loop with our codec, and Node's loop with pg's Pool. */
const POOL_MODELS = ['epoll', 'async'];
/** A loop, coroutines, Node's loop and a thread per connection: the designs that may hold 1,000 waits (the C ceilings do not serve io-wait). */
const C10K_MODELS = ['epoll', 'generators', 'async', 'thread-per-connection'];
/** The pools at their workers' count, beside a loop and a thread per connection. */
const POOL_RIVALS = ['thread-pool', 'prefork', 'epoll', 'thread-per-connection'];
/** Spinning against waiting, and a thread per connection against the loops, at the same offered rate. */
const EQUAL_RATE_MODELS = ['busy-poll', 'epoll', 'async', 'thread-per-connection'];
/** The models that start a Node thread or process per connection. */
const PER_CONNECTION = ['thread-per-connection', 'process-per-connection'];

/** One model of each family: what bench:ci watches for regressions. */
const CI_MODELS = ['async', 'epoll', 'io-uring', 'prefork', 'thread-pool', 'busy-poll', 'native-epoll'];

/** The Python examples of examples/models.json. */
const PY_MODELS = ['py-threading', 'py-threadpool', 'py-multiprocessing', 'py-selectors', 'py-asyncio', 'py-gevent'];
/** The built-in models the Python ones stand beside: Node's loop, our epoll loop, a thread per connection. */
const PY_BESIDE = ['async', 'epoll', 'thread-per-connection'];
const PY_ALL = [...PY_MODELS, ...PY_BESIDE];
/** One loop of each kind and a thread per connection: who holds 1,000 waits, or 1,000 idle connections. */
const PY_C10K = ['py-threading', 'py-selectors', 'py-asyncio', 'py-gevent', 'epoll', 'async'];
/**
 * The frameworks beside the designs they are built on (Tornado and aiohttp on asyncio's loop,
 * Twisted on its epoll reactor): one cell of each scenario they declare, at the connections where
 * their bases are measured. Their slices also name PY_MODELS, whose cells are already planned.
 */
const PY_FRAMEWORKS = ['py-tornado', 'py-twisted', 'py-aiohttp'];
/** A job queue: py-rq serves cpu and io-wait only. */
const PY_QUEUE = ['py-rq'];

export const SUITES: Record<SuiteName, Suite> = {
  quick: {
    what: 'steady only, 1 and 16 connections, 0.5 s windows: a smoke run of about a minute',
    durationS: 0.5,
    warmupS: 0.25,
    slices: [{ scenario: 'steady', protocols: BOTH, concurrency: [1, 16], models: null }],
  },
  default: {
    what: 'every model in steady (echo at 1, 64, 256; http at 64), a slice of idle, io-wait on PostgreSQL (pooled at 64, per-request at 64, smaller pools at 64; the pools and their rivals at 4) and on the service at 1,000 connections with 100 ms waits, equal-rate cells (busy-poll, epoll, async, thread-per-connection at 10% and 50% of epoll\'s rate), cpu (4), churn (16) and payload, with a noise probe: every finding has its data',
    durationS: 1,
    warmupS: 0.3,
    // Five readings of one cell spread through the run: the machine's run-to-run noise.
    noise: { model: 'epoll', protocol: 'echo', scenario: 'steady', concurrency: 64, readings: NOISE_READINGS },
    slices: [
      // echo to 256 connections (the memory and selector findings read it), except for the models that
      // start a thread or process per connection: 256 starts cost them 20 s a cell, and the memory
      // finding compares every model over the same range (1 to 64) anyway. http at 64.
      { scenario: 'steady', protocols: ['echo'], concurrency: [1, 64], models: null },
      { scenario: 'steady', protocols: ['echo'], concurrency: [256], models: null, except: PER_CONNECTION },
      { scenario: 'steady', protocols: ['http'], concurrency: [64], models: null },
      // The same offered load for every model: busy-poll's spinning against epoll's waiting, and a
      // thread per connection against the loops at one connection, by CPU and latency at equal rate.
      { scenario: 'steady', protocols: ['echo'], concurrency: [1], models: EQUAL_RATE_MODELS, equalRate: { of: 'epoll', fractions: [0.1, 0.5] } },
      // Churn's own concurrency with connections kept, for the loops the churn finding reads.
      { scenario: 'steady', protocols: ['http'], concurrency: [16], models: ['epoll', 'async'] },
      { scenario: 'idle', protocols: ['echo'], concurrency: [64], models: IDLE_MODELS },
      // On PostgreSQL. 64: every model (a pool queues what its workers cannot hold); 4: as many as
      // the pools' workers, for the pools and their rivals. Per request: the price of a new
      // connection (TCP, SCRAM, a forked backend) against a pooled one.
      { scenario: 'io-wait', protocols: ['http'], concurrency: [4], models: POOL_RIVALS, backendConnections: ['pooled'], backends: ['postgres'] },
      { scenario: 'io-wait', protocols: ['http'], concurrency: [64], models: null, backendConnections: ['pooled'], backends: ['postgres'] },
      { scenario: 'io-wait', protocols: ['http'], concurrency: [64], models: null, backendConnections: ['per-request'], backends: ['postgres'] },
      // How big should the pool be: a loop and Node's driver at 64 connections with smaller pools.
      { scenario: 'io-wait', protocols: ['http'], concurrency: [64], models: POOL_MODELS, backendConnections: ['pooled'], backends: ['postgres'], dbPools: [4, 16, 64] },
      // 1,000 waits at once, where a database would need 1,000 backends: the service holds them for
      // a timer each. 100 ms: 10,000 requests/s at best, which the server's CPU can serve, so the
      // waits and not the CPU are the limit (at 10 ms the ideal was 100k/s and epoll reached 24-40k).
      { scenario: 'io-wait', protocols: ['http'], concurrency: [1000], models: C10K_MODELS, backendConnections: ['pooled'], backends: ['service'], backendDelayMs: 100 },
      // As many connections as the default pool has workers, so pools run and the CPUs are the limit.
      { scenario: 'cpu', protocols: ['http'], concurrency: [4], models: null },
      { scenario: 'churn', protocols: ['http'], concurrency: [16], models: null },
      { scenario: 'payload', protocols: BOTH, concurrency: [16], models: PAYLOAD_MODELS, payloadSizes: [64, 65536] },
    ],
  },
  python: {
    what: 'the Python examples (threading, a thread pool, multiprocessing, selectors, asyncio, gevent) beside async, epoll and thread-per-connection in every scenario, and the frameworks (Tornado, Twisted, aiohttp, RQ on Redis) in one cell of each scenario they serve, on the same PostgreSQL (with --models-file examples/models.json)',
    // 2 s windows: the Python servers start for every cell, and a longer window averages the
    // neighbours' noise; about 8 minutes here.
    durationS: 2,
    warmupS: 0.5,
    modelsFile: 'examples/models.json',
    slices: [
      { scenario: 'steady', protocols: BOTH, concurrency: [1, 64], models: PY_ALL },
      // What a framework costs over its design: HTTP at 64, beside py-asyncio and py-selectors there.
      { scenario: 'steady', protocols: ['http'], concurrency: [64], models: [...PY_MODELS, ...PY_FRAMEWORKS] },
      { scenario: 'idle', protocols: ['echo'], concurrency: [64], models: [...PY_C10K, 'py-tornado', 'py-twisted'] },
      { scenario: 'idle', protocols: ['http'], concurrency: [64], models: ['py-aiohttp'] },
      // 4 connections: as many as the thread pool's workers; 64: its workers cap the waits in flight,
      // while the loops and threads hold every one. Per request: a new PostgreSQL session per query.
      { scenario: 'io-wait', protocols: ['http'], concurrency: [4, 64], models: PY_ALL, backendConnections: ['pooled'], backends: ['postgres'] },
      { scenario: 'io-wait', protocols: ['http'], concurrency: [64], models: PY_ALL, backendConnections: ['per-request'], backends: ['postgres'] },
      // 1,000 waits at once on the service: green threads and coroutines against a thread each.
      { scenario: 'io-wait', protocols: ['http'], concurrency: [1000], models: PY_C10K, backendConnections: ['pooled'], backends: ['service'] },
      // The frameworks where their bases hold every wait; the job queue at its workers' count.
      { scenario: 'io-wait', protocols: ['http'], concurrency: [64], models: PY_FRAMEWORKS, backendConnections: ['pooled'], backends: ['postgres'] },
      { scenario: 'io-wait', protocols: ['http'], concurrency: [4], models: PY_QUEUE, backendConnections: ['pooled'], backends: ['postgres'] },
      // As many connections as the pool's workers, the server on every CPU: does the GIL keep threads to one core?
      // py-rq beside py-multiprocessing here: a job queue's round trip against a local process.
      { scenario: 'cpu', protocols: ['http'], concurrency: [4], models: [...PY_ALL, ...PY_FRAMEWORKS, ...PY_QUEUE] },
      { scenario: 'churn', protocols: ['http'], concurrency: [16], models: [...PY_ALL, ...PY_FRAMEWORKS] },
      { scenario: 'payload', protocols: ['http'], concurrency: [16], models: PY_ALL, payloadSizes: [64, 65536] },
      { scenario: 'payload', protocols: ['http'], concurrency: [16], models: [...PY_MODELS, ...PY_FRAMEWORKS], payloadSizes: [65536] },
    ],
  },
  ci: {
    what: "bench:ci's regression gate: one model of each family (async, epoll, io-uring, prefork, thread-pool, busy-poll, native-epoll) in every scenario, 1 s windows (about a minute a repetition here)",
    durationS: 1,
    warmupS: 0.3,
    slices: [
      // prefork serves 4 connections at once (--workers 4): at 32 the rest wait in its backlog (a
      // limit, after the client's 3 s wait), so it is watched at 4, beside thread-pool there.
      { scenario: 'steady', protocols: BOTH, concurrency: [32], models: CI_MODELS.filter((m) => m !== 'prefork') },
      { scenario: 'steady', protocols: BOTH, concurrency: [4], models: ['prefork', 'thread-pool'] },
      { scenario: 'idle', protocols: ['echo'], concurrency: [64], models: ['epoll'] },
      // 4 connections: as many as the pools have workers, so prefork's every connection is answered.
      { scenario: 'io-wait', protocols: ['http'], concurrency: [4], models: CI_MODELS, backendConnections: ['pooled'], backends: ['postgres'] },
      { scenario: 'cpu', protocols: ['http'], concurrency: [4], models: CI_MODELS },
      { scenario: 'churn', protocols: ['http'], concurrency: [16], models: CI_MODELS },
      { scenario: 'payload', protocols: ['http'], concurrency: [16], models: ['epoll', 'async', 'native-epoll'], payloadSizes: [65536] },
    ],
  },
  soak: {
    what: 'one model (epoll unless --models says) in one long cell, http at 64 connections for 10 minutes (--duration changes it): did its memory grow over the window?',
    // A leak grows with the requests served; a plateau stops. Only a long window with many memory
    // readings tells the two apart, and one model's cell is what a soak is run for.
    durationS: 600,
    warmupS: 5,
    slices: [{ scenario: 'steady', protocols: ['http'], concurrency: [64], models: ['epoll'] }],
  },
  full: {
    what: 'every scenario for every model, both protocols, 1, 16, 64 and 256 connections (about an hour on two cores)',
    durationS: 1,
    warmupS: 0.3,
    slices: SCENARIOS.map((scenario) => ({
      scenario,
      protocols: BOTH,
      concurrency: [1, 16, 64, 256],
      models: null,
      ...(scenario === 'io-wait' ? { backendConnections: [...BACKEND_MODES], backends: ['postgres' as const] } : {}),
      ...(scenario === 'payload' ? { payloadSizes: PAYLOAD_SIZES } : {}),
    })),
  },
};

/** What the user said explicitly; anything absent comes from the suite. */
export interface SliceOverrides {
  scenarios?: Scenario[];
  protocols?: Protocol[];
  concurrency?: number[];
  /** True when --models was given: every slice then runs the plan's models. */
  modelsGiven?: boolean;
  backendConnections?: BackendMode[];
  backends?: BackendKind[];
  payloadSizes?: number[];
  /** True when --backend-delay was given: it then holds for every slice. */
  backendDelayGiven?: boolean;
}

export function buildSlices(suite: SuiteName, o: SliceOverrides): Slice[] {
  const own = SUITES[suite].slices;
  const scenarios = o.scenarios ?? [...new Set(own.map((s) => s.scenario))];
  const out: Slice[] = [];
  for (const scenario of scenarios) {
    // A scenario the suite leaves out (say --suite quick --scenarios cpu) takes the full suite's slice.
    const templates = own.some((s) => s.scenario === scenario) ? own.filter((s) => s.scenario === scenario) : SUITES.full.slices.filter((s) => s.scenario === scenario);
    for (const t of templates) {
      const slice: Slice = {
        scenario,
        protocols: o.protocols ?? t.protocols,
        concurrency: o.concurrency ?? t.concurrency,
        models: o.modelsGiven ? null : t.models,
      };
      if (t.except && !o.modelsGiven) slice.except = t.except;
      if (scenario === 'io-wait') {
        slice.backendConnections = o.backendConnections ?? t.backendConnections ?? [...BACKEND_MODES];
        slice.backends = o.backends ?? t.backends ?? ['postgres'];
        if (t.dbPools) slice.dbPools = t.dbPools;
        // A slice's own delay goes with its own connections (1,000 waits at 100 ms): --concurrency or --backend-delay drops it.
        if (t.backendDelayMs !== undefined && !o.backendDelayGiven && !o.concurrency) slice.backendDelayMs = t.backendDelayMs;
      }
      // Equal rates, like a slice's own delay, go with the slice's own connections: --concurrency drops them.
      if (t.equalRate && !o.concurrency) slice.equalRate = t.equalRate;
      if (scenario === 'payload') slice.payloadSizes = o.payloadSizes ?? t.payloadSizes ?? PAYLOAD_SIZES;
      out.push(slice);
    }
  }
  return out;
}
