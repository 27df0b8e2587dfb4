// Command-line flags -> a validated run plan. Every bad input gets one line naming the flag and
// what it allows; nothing is started before the whole plan is valid.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { findModel, MODEL_NAMES, PROTOCOLS, type ModelInfo, type Protocol } from '../schema/catalog.js';
import { ExternalError, parseServerCmd, readModelsFile, type ExternalModel } from './external.js';
import { SCENARIOS, type Scenario } from '../schema/results.js';
import { BACKEND_KINDS, type BackendKind } from '../schema/work.js';
import { DatabaseError, parsePostgresUrl, POSTGRES_AUTHS, type PostgresAuth } from './database.js';
import { BACKEND_MODES, buildSlices, SUITE_NAMES, SUITES, type BackendMode, type Slice, type SuiteName } from './suites.js';

export class PlanError extends Error {
  readonly code = 'EPLAN';
}

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
  httpClient: 'native' | 'autocannon' | 'wrk';
  /** Load threads per client; null: one per client CPU. */
  clientThreads: number | null;
  /** CPUs the server is pinned to; null: 1 below four CPUs, else half of them. */
  serverCpus: number | null;
  /** Requests in flight per connection. */
  pipeline: number;
  /** Open-loop rates (ops/s), `sweep`, or null for closed loop only. */
  rates: number[] | 'sweep' | null;
  /** Programs from --models-file and --server-cmd, measured like the built-in models. */
  external: ExternalModel[];
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
  workers: String(Math.max(4, availableParallelism() * 2)),
  out: 'results',
  pin: 'auto',
  'memory-budget': `${Math.floor(totalmem() / 2 / 2 ** 20)}MiB`,
  'http-client': 'native',
  pipeline: '1',
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
  'server-cmd': { type: 'string', multiple: true },
  'models-file': { type: 'string' },
  quick: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const FLAG_NAMES = Object.keys(FLAGS).map((f) => `--${f}`);

/** Parses argv (without node and script); returns null when --help was asked for. */
export function parsePlan(argv: string[]): Plan | null {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({ args: attachValues(argv), options: FLAGS, strict: true, allowPositionals: false }));
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
    httpClient: parseList('--http-client', get('http-client'), ['native', 'autocannon', 'wrk'])[0] as Plan['httpClient'],
    clientThreads: typeof values['client-threads'] === 'string' ? parsePositiveInt('--client-threads', values['client-threads']) : null,
    serverCpus: typeof values['server-cpus'] === 'string' ? parsePositiveInt('--server-cpus', values['server-cpus']) : null,
    pipeline: parsePositiveInt('--pipeline', get('pipeline')),
    rates: typeof values.rate === 'string' ? parseRates(values.rate) : null,
    external,
  };
  checkClient(plan);
  checkScenarios(plan);
  if (plan.payloadBytes > 64 * 2 ** 20) throw new PlanError(`--payload: at most 67108864 bytes (64 MiB), got ${plan.payloadBytes}`);
  if (plan.models.length === 0) {
    throw new PlanError(`--models: nothing left to run: ${skipped.map((s) => `${s.model} (${s.reason})`).join(', ')}`);
  }
  if (!plan.models.some((m) => plan.protocols.some((p) => modelInfo(plan, m)!.protocols.includes(p)))) {
    throw new PlanError(`--models/--protocols: no model in ${plan.models.join(',')} serves ${plan.protocols.join(',')}`);
  }
  // The server holds every load connection, the idle ones too in that scenario, and in io-wait a
  // backend connection per waiting request.
  const held = (s: Slice): number => Math.max(...s.concurrency) * (s.scenario === 'io-wait' ? 2 : 1) + (s.scenario === 'idle' ? plan.idleConnections : 0);
  const most = Math.max(...plan.slices.map(held));
  checkDescriptors(most, plan.scenarios.includes('idle') ? '--concurrency/--idle-connections' : '--concurrency');
  checkPorts(most, plan.scenarios.includes('idle') ? '--concurrency/--idle-connections' : '--concurrency');
  checkWritable(plan.out);
  return plan;
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
  const big = sizes.find((n) => n > MAX_PAYLOAD_SIZE);
  if (big !== undefined) throw new PlanError(`--payload-sizes: at most ${MAX_PAYLOAD_SIZE} bytes (1 MiB), got ${big}`);
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

/** Largest payload-scenario size, bytes: GET /bytes/N answers up to this. */
export const MAX_PAYLOAD_SIZE = 1 << 20;

/**
 * Refuses a plan whose connections at once cannot get a local port: the client's ports come from
 * ip_local_port_range. Churn reopens connections all the time, but the side that closes first
 * keeps TIME_WAIT: the server for HTTP (Connection: close), and for echo the client closes with a
 * reset (SO_LINGER 0), so neither leaves the client's ports waiting; what bounds a cell is how many
 * connections are open at once.
 */
export function checkPorts(connections: number, flag: string, range = ephemeralPorts()): void {
  if (range === null) return;
  const size = range.last - range.first + 1;
  if (connections > size) {
    throw new PlanError(`${flag}: ${connections} connections at once need as many local ports, but ip_local_port_range (${range.first}-${range.last}) has ${size}; widen it (sysctl net.ipv4.ip_local_port_range) or lower ${flag}`);
  }
}

export function ephemeralPorts(): { first: number; last: number } | null {
  try {
    const [first, last] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(first) && Number.isInteger(last) ? { first: first!, last: last! } : null;
  } catch {
    return null;
  }
}

/** Leaves out models whose tool is missing, so one absent compiler never fails a whole run. */
function available(models: string[]): { models: string[]; skipped: Plan['skipped'] } {
  const skipped: Plan['skipped'] = [];
  const kept = models.filter((m) => {
    const needs = findModel(m)?.requires; // external models check theirs per cell, as a limit
    if (needs === undefined || hasCommand(needs)) return true;
    skipped.push({ model: m, reason: `no C compiler: \`${needs}\` is not on PATH` });
    return false;
  });
  return { models: kept, skipped };
}

/** The client choices that cannot work together, refused before anything starts. */
function checkClient(plan: Plan): void {
  const cpus = availableParallelism();
  if (plan.serverCpus !== null && plan.pin && plan.serverCpus >= cpus) {
    throw new PlanError(`--server-cpus: at most ${cpus - 1} on this machine (${cpus} CPUs; the client needs at least one), got ${plan.serverCpus}`);
  }
  if (plan.pipeline > 1024) throw new PlanError(`--pipeline: at most 1024, got ${plan.pipeline}`);
  if (!plan.protocols.includes('http') || plan.httpClient === 'native') return;
  if (plan.rates !== null) throw new PlanError(`--rate: open loop needs --http-client native (${plan.httpClient} keeps no corrected schedule)`);
  if (plan.httpClient === 'wrk' && !hasCommand('wrk')) throw new PlanError('--http-client wrk: wrk is not on PATH (Debian: apt-get install wrk)');
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

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `--warmup -1s` would otherwise be refused by parseArgs as "ambiguous"; joining it to
 * `--warmup=-1s` lets the flag's own validation say what is allowed.
 */
export function attachValues(argv: string[], flags: Record<string, { type: string }> = FLAGS): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.startsWith('--') ? argv[i]!.slice(2) : '';
    const def = flags[name];
    const next = argv[i + 1];
    const nextIsFlag = next !== undefined && (next === '-h' || next.split('=')[0]!.slice(2) in flags);
    if (def?.type === 'string' && next?.startsWith('-') && !nextIsFlag) out.push(`--${name}=${argv[++i]}`);
    else out.push(argv[i]!);
  }
  return out;
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

function parsePositiveInt(flag: string, raw: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new PlanError(`${flag}: must be a positive integer, got "${raw}"`);
  return n;
}

/** "3s", "500ms", "1.5" (seconds). */
export function parseSeconds(flag: string, raw: string, zeroAllowed: boolean): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(raw);
  const s = m ? Number(m[1]) / (m[2] === 'ms' ? 1000 : 1) : NaN;
  if (!Number.isFinite(s) || s < 0 || (!zeroAllowed && s === 0)) {
    const floor = zeroAllowed ? 'zero or more' : 'a positive duration';
    throw new PlanError(`${flag}: must be ${floor} like 3s, 500ms or 1.5, got "${raw}"`);
  }
  if (s > 3600) throw new PlanError(`${flag}: at most 3600s, got "${raw}"`);
  return s;
}

/** "512MiB", "2GiB", "1048576" (bytes). */
export function parseBytes(flag: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(KiB|MiB|GiB)?$/.exec(raw);
  const mult = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 } as const;
  const n = m ? Number(m[1]) * (m[2] ? mult[m[2] as keyof typeof mult] : 1) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new PlanError(`${flag}: must be a size like 512MiB, 2GiB or a byte count, got "${raw}"`);
  return Math.floor(n);
}

/** Refuses up front a connection count the descriptor limit cannot hold, instead of EMFILE mid-run. */
export function checkDescriptors(connections: number, flag = '--connections'): void {
  const limit = openFilesLimit();
  const needed = connections + 64; // the runtime's own descriptors: stdio, epoll, worker pipes
  if (limit !== null && needed > limit) {
    throw new PlanError(`${flag}: ${connections} connections need about ${needed} descriptors but the limit is ${limit} (raise it with ulimit -n ${needed})`);
  }
}

function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Creates `dir` one level at a time and writes a probe file in it. Node 20's recursive mkdir never
 * returns under /proc, and root passes every access() check, so only a real write tells.
 */
function checkWritable(dir: string): void {
  try {
    const full = resolve(dir);
    let at = '/';
    for (const part of full.split('/').filter(Boolean)) {
      at = join(at, part);
      if (!existsSync(at)) mkdirSync(at);
    }
    const probe = join(full, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new PlanError(`--out: cannot write to "${dir}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
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
  --payload-sizes LIST payload: sizes in bytes, echo messages and GET /bytes/N bodies, at most ${MAX_PAYLOAD_SIZE} (default: 64,4096,65536)
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
  --pipeline N         requests in flight per connection (default: ${DEFAULTS.pipeline}; 1 in io-wait, cpu, churn)
  --out DIR            where run folders go (default: ${DEFAULTS.out})
  -h, --help           this text
`;
}
