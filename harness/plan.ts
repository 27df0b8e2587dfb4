// Command-line flags -> a validated run plan. Every bad input gets one line naming the flag and
// what it allows; nothing is started before the whole plan is valid (the checks of this machine
// it must fit are in preflight.ts).
import { availableParallelism, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { MAX_BYTES_ROUTE } from '../protocols/http.js';
import { attachValues, checkLoadClient, defaultWorkers, parsePositiveInt, parseSeconds, parseSendBatch, PlanError } from '../schema/flags.js';
import { CLIENT_TOOLS, type ClientTool } from '../schema/messages.js';
import { onPath } from '../sys/path.js';
import { findModel, MODEL_NAMES, PROTOCOLS, type ModelInfo, type Protocol } from '../schema/catalog.js';
import { ExternalError, parseServerCmd, readModelsFile, type ExternalModel } from './external.js';
import { SCENARIOS, type NoiseProbe, type Scenario } from '../schema/results.js';
import { BACKEND_KINDS, type BackendKind } from '../schema/work.js';
import { DatabaseError, parsePostgresUrl, POSTGRES_AUTHS, type PostgresAuth } from './database.js';
import { available, checkCapacity, checkServerCpus, checkWritable } from './preflight.js';
import { checkHostsPlan, parseHostsFlags, type HostsPlan } from './host-flags.js';
import { BACKEND_MODES, buildSlices, SUITE_NAMES, SUITES, type BackendMode, type Slice, type SuiteName } from './suites.js';

export interface Plan {
  models: string[];
  /** Models asked for that cannot run here, with why; recorded in the results. */
  skipped: { model: string; reason: string }[];
  /** Every protocol, scenario and concurrency some slice runs (the slices say which go together). */
  protocols: Protocol[];
  scenarios: Scenario[];
  idleConnections: number;
  concurrency: number[];
  suite: SuiteName;
  /** What the run covers: per scenario, its protocols, concurrencies and models. */
  slices: Slice[];
  /** io-wait: how long the backend holds each query, ms. */
  backendDelayMs: number;
  /** io-wait on PostgreSQL: how the servers authenticate to the embedded cluster. */
  postgresAuth: PostgresAuth;
  /** io-wait on PostgreSQL: a database the user runs instead of the embedded one (loopback only), or null. */
  postgresUrl: string | null;
  /** io-wait pooled: pool sizes per server process to run; null: the cell's connections (the model, not the pool, is measured). */
  dbPools: number[] | null;
  /** cpu: CPU each request burns before its reply, µs. */
  workUs: number;
  durationS: number;
  warmupS: number;
  repetitions: number;
  payloadBytes: number;
  workers: number;
  /** Folder that receives <run-id>/; created if missing. */
  out: string;
  /** Pin server and client to different CPUs when the machine has two or more. */
  pin: boolean;
  /** A server tree above this many bytes (PSS, or RSS until PSS is read) is stopped and its cell recorded as `limit`. */
  memoryBudgetBytes: number;
  /** --quick: the quick suite. */
  quick: boolean;
  /** The HTTP load generator (echo always uses the native client). */
  httpClient: ClientTool;
  /** Load threads per client; null: one per client CPU. */
  clientThreads: number | null;
  /** CPUs the server is pinned to; null: 1 below four CPUs, else half of them. */
  serverCpus: number | null;
  /** Requests in flight per connection. */
  pipeline: number;
  /** Open-loop rates (ops/s), `sweep`, or null for closed loop only. */
  rates: number[] | 'sweep' | null;
  /** --send-batch: the open-loop client's gap between batches of sends, µs; null (auto): each load thread chooses in warm-up, and equal-rate cells send without batches. */
  sendBatchUs: number | null;
  /** Programs from --models-file and --server-cmd, measured like the built-in models. */
  external: ExternalModel[];
  /** The suite's noise probe when the plan runs its cell (its model, protocol and scenario), else null. */
  noise: NoiseProbe | null;
  /** --server-host and --load-hosts (README: "Across machines"); null: everything on this machine's loopback. */
  hosts?: HostsPlan | null;
}

/** What the harness needs to know of a model, built-in or external. */
export type PlanModel = ModelInfo & { external?: ExternalModel };

export function modelInfo(plan: Pick<Plan, 'external'>, name: string): PlanModel | undefined {
  const ext = plan.external.find((m) => m.name === name);
  if (ext) return { name, family: ext.family, description: ext.description ?? ext.command.join(' '), protocols: ext.protocols, external: ext };
  return findModel(name);
}

/** `--rate sweep`: after each closed-loop cell, open-loop cells at these fractions of its throughput. */
export const SWEEP_FRACTIONS = [0.25, 0.5, 0.75, 0.9, 1] as const;
/** A cell whose errors exceed this share of its attempts (ops + errors) is failed, not fast. */
export const ERROR_THRESHOLD = 0.01;

/**
 * The plan a bare `npm run bench` runs: the default suite (harness/suites.ts) sets the scenarios,
 * protocols, concurrencies and windows; the rest is here. Short windows keep it within eight
 * minutes on two cores; pass --duration 3s --warmup 1s --repetitions 3 for steadier figures.
 */
export const DEFAULTS = {
  models: 'all',
  suite: 'default',
  'idle-connections': '1000',
  'backend-delay': '10ms',
  'postgres-auth': 'scram',
  'work-us': '200',
  repetitions: '1',
  payload: '64',
  workers: String(defaultWorkers(availableParallelism())),
  out: 'results',
  pin: 'auto',
  'memory-budget': `${Math.floor(totalmem() / 2 / 2 ** 20)}MiB`,
  'http-client': 'native',
  pipeline: '1',
  'send-batch': 'auto',
} as const;

/** What --quick changes (it is --suite quick): a smoke plan that finishes in about a minute. */
export const QUICK = { concurrency: '1,16', duration: `${SUITES.quick.durationS}s`, warmup: `${SUITES.quick.warmupS}s` } as const;

const FLAGS = {
  models: { type: 'string' },
  protocols: { type: 'string' },
  scenarios: { type: 'string' },
  suite: { type: 'string' },
  'backend-delay': { type: 'string' },
  'backend-connections': { type: 'string' },
  backend: { type: 'string' },
  'postgres-auth': { type: 'string' },
  'postgres-url': { type: 'string' },
  'db-pool': { type: 'string' },
  'work-us': { type: 'string' },
  'payload-sizes': { type: 'string' },
  'idle-connections': { type: 'string' },
  concurrency: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  repetitions: { type: 'string' },
  payload: { type: 'string' },
  workers: { type: 'string' },
  out: { type: 'string' },
  pin: { type: 'string' },
  'memory-budget': { type: 'string' },
  'http-client': { type: 'string' },
  'client-threads': { type: 'string' },
  'server-cpus': { type: 'string' },
  pipeline: { type: 'string' },
  rate: { type: 'string' },
  'send-batch': { type: 'string' },
  'server-cmd': { type: 'string', multiple: true },
  'models-file': { type: 'string' },
  quick: { type: 'boolean' },
  'server-host': { type: 'string' },
  'db-host': { type: 'string' },
  'load-hosts': { type: 'string' },
  'ssh-config': { type: 'string' },
  'remote-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const FLAG_NAMES = Object.keys(FLAGS).map((f) => `--${f}`);

/** Parses argv (without node and script); returns null when --help was asked for. */
export function parsePlan(argv: string[]): Plan | null {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({ args: attachValues(argv, FLAGS), options: FLAGS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new PlanError(flagParseMessage(e as Error));
  }
  if (values.help) return null;
  const external = parseExternal(values['models-file'], values['server-cmd']);
  const given = (f: string): string | undefined => (typeof values[f] === 'string' ? (values[f] as string) : undefined);
  if (values.quick === true && given('suite') !== undefined && given('suite') !== 'quick') {
    throw new PlanError(`--quick: is --suite quick; it cannot go with --suite ${given('suite')}`);
  }
  const suite = (values.quick === true ? 'quick' : parseList('--suite', given('suite') ?? DEFAULTS.suite, SUITE_NAMES)[0]) as SuiteName;
  const quick = suite === 'quick';
  const get = (f: keyof typeof DEFAULTS): string => given(f) ?? DEFAULTS[f];
  const { models, skipped } = available(parseModels(get('models'), external.map((m) => m.name)));
  const optional = <T>(f: string, parse: (raw: string) => T): T | undefined => (given(f) === undefined ? undefined : parse(given(f)!));
  const slices = buildSlices(suite, {
    scenarios: optional('scenarios', (r) => parseList('--scenarios', r, SCENARIOS) as Scenario[]),
    protocols: optional('protocols', (r) => parseList('--protocols', r, PROTOCOLS) as Protocol[]),
    concurrency: optional('concurrency', (r) => parseIntList('--concurrency', r)),
    modelsGiven: given('models') !== undefined,
    backendConnections: optional('backend-connections', (r) => parseList('--backend-connections', r, BACKEND_MODES) as BackendMode[]),
    backends: optional('backend', (r) => parseList('--backend', r, BACKEND_KINDS) as BackendKind[]),
    payloadSizes: optional('payload-sizes', (r) => parseIntList('--payload-sizes', r)),
    backendDelayGiven: given('backend-delay') !== undefined,
  });
  const union = <T>(pick: (s: Slice) => readonly T[]): T[] => [...new Set(slices.flatMap(pick))];
  const plan: Plan = {
    models,
    skipped,
    protocols: union((s) => s.protocols),
    scenarios: union((s) => [s.scenario]),
    idleConnections: parsePositiveInt('--idle-connections', get('idle-connections')),
    concurrency: union((s) => s.concurrency).sort((a, b) => a - b),
    suite,
    slices,
    backendDelayMs: parseSeconds('--backend-delay', get('backend-delay'), true) * 1000,
    postgresAuth: parseList('--postgres-auth', get('postgres-auth'), POSTGRES_AUTHS)[0] as PostgresAuth,
    postgresUrl: optional('postgres-url', parseUrlFlag) ?? null,
    dbPools: optional('db-pool', (r) => parseIntList('--db-pool', r)) ?? null,
    workUs: parsePositiveInt('--work-us', get('work-us')),
    durationS: optional('duration', (r) => parseSeconds('--duration', r, false)) ?? SUITES[suite].durationS,
    warmupS: optional('warmup', (r) => parseSeconds('--warmup', r, true)) ?? SUITES[suite].warmupS,
    repetitions: parsePositiveInt('--repetitions', get('repetitions')),
    payloadBytes: parsePositiveInt('--payload', get('payload')),
    workers: parsePositiveInt('--workers', get('workers')),
    out: get('out'),
    pin: parseList('--pin', get('pin'), ['auto', 'off'])[0] === 'auto',
    memoryBudgetBytes: parseBytes('--memory-budget', get('memory-budget')),
    quick,
    httpClient: parseList('--http-client', get('http-client'), CLIENT_TOOLS)[0] as ClientTool,
    clientThreads: typeof values['client-threads'] === 'string' ? parsePositiveInt('--client-threads', values['client-threads']) : null,
    serverCpus: typeof values['server-cpus'] === 'string' ? parsePositiveInt('--server-cpus', values['server-cpus']) : null,
    pipeline: parsePositiveInt('--pipeline', get('pipeline')),
    rates: typeof values.rate === 'string' ? parseRates(values.rate) : null,
    sendBatchUs: parseSendBatch(get('send-batch')),
    external,
    noise: null,
    hosts: parseHostsFlags({ serverHost: given('server-host'), dbHost: given('db-host'), loadHosts: given('load-hosts'), sshConfig: given('ssh-config'), remoteDir: given('remote-dir') }),
  };
  // An explicit --concurrency is a precise plan: no probe cells are added to it.
  plan.noise = given('concurrency') === undefined ? noiseProbe(plan) : null;
  checkHostsPlan(plan);
  checkServerCpus(plan);
  checkLoadClient({ http: plan.protocols.includes('http'), client: plan.httpClient, openLoop: plan.rates !== null, pipeline: plan.pipeline }, () => onPath('wrk'));
  checkScenarios(plan);
  if (plan.payloadBytes > 64 * 2 ** 20) throw new PlanError(`--payload: at most 67108864 bytes (64 MiB), got ${plan.payloadBytes}`);
  if (plan.models.length === 0) {
    throw new PlanError(`--models: nothing left to run: ${skipped.map((s) => `${s.model} (${s.reason})`).join(', ')}`);
  }
  if (!plan.models.some((m) => plan.protocols.some((p) => modelInfo(plan, m)!.protocols.includes(p)))) {
    throw new PlanError(`--models/--protocols: no model in ${plan.models.join(',')} serves ${plan.protocols.join(',')}`);
  }
  checkCapacity(plan);
  checkWritable(plan.out);
  return plan;
}

/**
 * The suite's noise probe, kept when the plan already runs its cell (closed loop, in a slice that
 * names its model, protocol, scenario and connections), so that it never adds a cell the plan
 * would not have had. With as many repetitions as it has readings, every cell is its own probe and
 * none is added.
 */
function noiseProbe(plan: Plan): NoiseProbe | null {
  const probe = SUITES[plan.suite].noise;
  if (!probe || !plan.models.includes(probe.model) || (plan.rates !== null && plan.rates !== 'sweep')) return null;
  const runs = plan.slices.some((s) => s.scenario === probe.scenario && s.protocols.includes(probe.protocol) && s.concurrency.includes(probe.concurrency) &&
    (s.models === null || s.models.includes(probe.model)) && !s.except?.includes(probe.model));
  return runs ? { ...probe, readings: Math.max(probe.readings, plan.repetitions) } : null;
}

/** The scenario flags that cannot work together, refused before anything starts. */
function checkScenarios(plan: Plan): void {
  const oneAtATime = plan.scenarios.filter((s) => s === 'io-wait' || s === 'cpu' || s === 'churn');
  if (plan.pipeline > 1 && oneAtATime.length > 0) {
    throw new PlanError(`--pipeline: ${oneAtATime.join(', ')} send${oneAtATime.length === 1 ? 's' : ''} one request at a time per connection (each reply waits for its own work or connection); use --pipeline 1 or leave out those scenarios`);
  }
  if (plan.backendDelayMs > 10_000) throw new PlanError(`--backend-delay: at most 10s, got ${plan.backendDelayMs} ms`);
  if (plan.workUs > 1_000_000) throw new PlanError(`--work-us: at most 1000000 (one second of CPU per request), got ${plan.workUs}`);
  const sizes = plan.slices.flatMap((s) => s.payloadSizes ?? []);
  const big = sizes.find((n) => n > MAX_BYTES_ROUTE);
  if (big !== undefined) throw new PlanError(`--payload-sizes: at most ${MAX_BYTES_ROUTE} bytes (1 MiB), got ${big}`);
}

/** --postgres-url, checked before anything starts (loopback only); the URL is kept as given. */
function parseUrlFlag(raw: string): string {
  try {
    parsePostgresUrl(raw);
  } catch (e) {
    throw new PlanError((e as DatabaseError).message);
  }
  return raw;
}

/** "2000,8000" (ops/s) or "sweep". */
function parseRates(raw: string): number[] | 'sweep' {
  if (raw === 'sweep') return 'sweep';
  const rates = splitList('--rate', raw).map((x) => {
    const n = /^\d+(\.\d+)?$/.test(x) ? Number(x) : NaN;
    if (!Number.isFinite(n) || n <= 0) throw new PlanError(`--rate: expected operations per second (a positive number), a list of them, or "sweep", got "${raw}"`);
    return n;
  });
  return [...new Set(rates)].sort((a, b) => a - b);
}

function flagParseMessage(e: Error): string {
  const missing = /Option '(--[\w-]+)[^']*' argument (missing|is ambiguous)/.exec(e.message);
  if (missing) return `${missing[1]}: needs a value (see --help)`;
  const unknown = /Unknown option '([^']+)'/.exec(e.message);
  if (unknown) return `${unknown[1]}: unknown flag; allowed: ${FLAG_NAMES.join(', ')}`;
  const positional = /Unexpected argument '([^']+)'/.exec(e.message);
  if (positional) return `unexpected argument "${positional[1]}"; flags take the form --name value (see --help)`;
  return e.message.split('\n')[0]!;
}

function parseModels(raw: string, external: string[]): string[] {
  if (raw === 'all') return [...MODEL_NAMES, ...external];
  return parseList('--models', raw, [...MODEL_NAMES, ...external]);
}

/** External models from --models-file and --server-cmd; a bad entry is a PlanError naming it. */
function parseExternal(file: unknown, cmds: unknown): ExternalModel[] {
  try {
    const fromFile = typeof file === 'string' ? readModelsFile(file, MODEL_NAMES) : [];
    const fromFlags = (Array.isArray(cmds) ? cmds : []).map((c: string) => parseServerCmd(c, [...MODEL_NAMES, ...fromFile.map((m) => m.name)]));
    return [...fromFile, ...fromFlags];
  } catch (e) {
    if (e instanceof ExternalError) throw new PlanError(e.message);
    throw e;
  }
}

function parseList(flag: string, raw: string, allowed: readonly string[]): string[] {
  const items = splitList(flag, raw);
  for (const item of items) {
    if (!allowed.includes(item)) {
      const what = ({ '--models': 'model', '--protocols': 'protocol', '--scenarios': 'scenario' } as Record<string, string>)[flag] ?? 'value';
      throw new PlanError(`${flag}: unknown ${what} "${item}"; known: ${allowed.join(', ')}${flag === '--models' ? ', all' : ''}`);
    }
  }
  return [...new Set(items)];
}

function splitList(flag: string, raw: string): string[] {
  const items = raw.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) throw new PlanError(`${flag}: expected a comma-separated list, got "${raw}"`);
  return items;
}

function parseIntList(flag: string, raw: string): number[] {
  const values = splitList(flag, raw).map((s) => parsePositiveInt(flag, s));
  return [...new Set(values)].sort((a, b) => a - b);
}

/** "512MiB", "2GiB", "1048576" (bytes). */
export function parseBytes(flag: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(KiB|MiB|GiB)?$/.exec(raw);
  const mult = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 } as const;
  const n = m ? Number(m[1]) * (m[2] ? mult[m[2] as keyof typeof mult] : 1) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new PlanError(`${flag}: must be a size like 512MiB, 2GiB or a byte count, got "${raw}"`);
  return Math.floor(n);
}

export function usage(): string {
  const suites = SUITE_NAMES.map((n) => `                       ${n.padEnd(8)} ${SUITES[n].what}`).join('\n');
  return `Usage: npm run bench -- [flags]

Runs every cell of the plan (model, protocol, scenario, concurrency, repetition), writes
results/<run-id>/results.json as it goes, then charts and report.md beside it. Prints the
plan's estimated time before it starts.

  --suite NAME         what a run covers (default: ${DEFAULTS.suite}):
${suites}
  --quick              the same as --suite quick
  --models LIST        models to run, or "all" (default: ${DEFAULTS.models}); known: ${MODEL_NAMES.join(', ')}
  --scenarios LIST     ${SCENARIOS.join(', ')} (default: the suite's); see the README's "Scenarios"
  --protocols LIST     echo, http (default: the suite's choice per scenario)
  --concurrency LIST   connections per cell (default: the suite's choice per scenario)
  --idle-connections N idle connections beside the load in the idle scenario (default: ${DEFAULTS['idle-connections']})
  --backend-delay TIME io-wait: how long the backend holds each query (default: ${DEFAULTS['backend-delay']})
  --backend-connections LIST   io-wait: pooled (opened once, reused), per-request (connect, query,
                       close every time), or both (default: the suite's)
  --backend LIST       io-wait: postgres (a real PostgreSQL, embedded by default), service (a remote
                       service that answers after the delay), or both (default: the suite's)
  --postgres-auth scram|trust   how servers log in to the embedded PostgreSQL (default: ${DEFAULTS['postgres-auth']}, SCRAM-SHA-256)
  --postgres-url URL   use your own PostgreSQL (loopback only) instead of the embedded one; the harness
                       creates its table "world" there and drops it after
  --db-pool LIST       io-wait pooled: database connections per server process, one cell per size
                       (default: the cell's connections, so the model and not the pool is measured)
  --work-us N          cpu: microseconds of CPU each request burns, calibrated once per run (default: ${DEFAULTS['work-us']})
  --payload-sizes LIST payload: sizes in bytes, echo messages and GET /bytes/N bodies, at most ${MAX_BYTES_ROUTE} (default: 64,4096,65536)
  --duration TIME      measured window per cell, e.g. 3s or 500ms (default: the suite's, 1s)
  --warmup TIME        unmeasured load before the window (default: the suite's, 0.3s)
  --repetitions N      times each cell runs, interleaved across cells (default: ${DEFAULTS.repetitions})
  --payload BYTES      echo message size outside the payload scenario (default: ${DEFAULTS.payload})
  --workers N          threads/processes for pooled models (default: ${DEFAULTS.workers}: 2 per CPU, at least 4)
  --memory-budget SIZE stop a server tree above this memory (PSS) and record "limit" (default: ${DEFAULTS['memory-budget']}, half the RAM)
  --models-file FILE   external models: programs listed in a JSON file, measured beside ours (see README)
  --server-cmd NAME=COMMAND   an external model from one command line with {port} (and {workers}); repeatable
  --pin auto|off       pin server and client to different CPUs with taskset (default: ${DEFAULTS.pin}); in cpu the
                       server gets every CPU
  --server-cpus N      CPUs the server is pinned to; the client gets the rest (default: 1 below 4 CPUs, else half)
  --client-threads N   load threads per client, each its own epoll loop (default: one per client CPU)
  --http-client native|autocannon|wrk   HTTP load generator (default: ${DEFAULTS['http-client']}; wrk must be on PATH)
  --rate LIST|sweep    open loop at these operations per second (latency from each request's intended send
                       time); "sweep": after each closed-loop cell, ${SWEEP_FRACTIONS.join(', ')} of its throughput
  --send-batch auto|US open loop: the least gap between a load thread's batches of sends, µs (0 to 1000);
                       auto: 0, widened in warm-up while the thread is over 80% busy, and 0 in equal-rate
                       cells so every model there gets the same arrivals (default: ${DEFAULTS['send-batch']})
  --pipeline N         requests in flight per connection (default: ${DEFAULTS.pipeline}; 1 in io-wait, cpu, churn)
  --out DIR            where run folders go (default: ${DEFAULTS.out})
  --server-host [user@]host[:port]   run each cell's server on that host over ssh (README: "Across machines");
                       steady, churn and payload, built-in models (default: this machine's loopback)
  --db-host [user@]host[:port]   io-wait's database (embedded PostgreSQL) and service stand-in on that
                       host, queried by the server host's servers; needs --server-host
  --load-hosts LIST    one load agent on each of these hosts, sharing one schedule and one window; needs
                       --server-host (default: one agent on this machine)
  --ssh-config FILE    ssh -F FILE for those hosts (default: your ~/.ssh/config)
  --remote-dir DIR     where the project is on every host, the very build run here (default: this folder's path)
  -h, --help           this text
`;
}
