// One cell: start the server, verify it, load it, sample it, stop it. Every failure becomes a
// cell with a status and a reason; nothing here throws past runCell.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { BackendStatsMessage, ClientResult, EventMessage } from '../schema/messages.js';
import { workArg, type IoWaitWork, type Work } from '../schema/work.js';
import { usageBetween, type Database } from './database.js';
import type { BackendUsage, Cell, CellKey, Ideal, Pinning, ServerUsage } from '../schema/results.js';
import { windowDrift } from '../schema/results.js';
import { dist } from './paths.js';
import { ERROR_THRESHOLD, modelInfo, type Plan } from './plan.js';
import { contractEnv, declaredScenarios, freePort, missingRequirement, readCalibration, startExternal, waitReady, type Calibration, type ExternalModel } from './external.js';
import { startGroup, stopGroup, waitForMessage, type Child } from './processes.js';
import { missingRedis, needsRedis, redisUsageBetween, type Redis } from './redis.js';
import { TreeSampler } from './sampler.js';
import { CoreSampler } from './cores.js';
import { verifyExchange } from './verify.js';
import type { ResolvedHosts } from './host-cell.js';

export const SAMPLE_INTERVAL_MS = 100;
const LISTEN_TIMEOUT_MS = 15_000;
/**
 * Longest a client waits for every connection's first answer before warming up: a model that starts
 * a process per connection takes a while, and one that cannot answer them all by then is at a limit.
 */
export const CONNECT_CAP_MS = 20_000;
const IDLE_TIMEOUT_MS = 60_000;
/** A cell whose own client says so is `limit`; a model that prints a limit line is too. */
class LimitReached extends Error {}

/** A cell to run; a sweep cell gets its rate from its closed-loop cell's throughput at run time. */
export type CellSpec = CellKey & { sweepFraction?: number; sweepOf?: string };

/** What every cell of a run shares: where each side runs, how many load threads the client has, the calibrated CPU work. */
export interface CellContext {
  pinning: Pinning;
  clientThreads: number;
  /** cpu: iterations of the CPU loop that make --work-us on this machine; null when no cpu cell is planned. */
  workIterations: number | null;
  /** The run's PostgreSQL, started once per run when an io-wait cell needs it. */
  database?: Database | null;
  /** The run's Redis, started once per run when a model that needs it has a cell to run. */
  redis?: Redis | null;
  /** A plan across machines: its hosts, checked, with the server host's address; null or absent on loopback. */
  hosts?: ResolvedHosts | null;
}

/** How long the backend may take to start listening, ms. */
const BACKEND_START_MS = 10_000;

export function emptyCell(spec: CellSpec, status: Cell['status'], reason: string): Cell {
  const zero = { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    ...spec,
    status,
    reason,
    durationS: 0,
    ops: 0,
    opsPerSec: 0,
    bytesPerSec: 0,
    errors: { total: 0, byCode: {} },
    latencyUs: zero,
    latencyUncorrectedUs: null,
    rateShortfall: null,
    reconnects: 0,
    outstanding: 0,
    window: null,
    histograms: null,
    server: {
      cpuUserS: 0,
      cpuSysS: 0,
      cpuPercent: 0,
      rssPeakBytes: 0,
      rssMeanBytes: 0,
      pssPeakBytes: null,
      threadsPeak: 0,
      processesPeak: 0,
      ctxVoluntary: 0,
      ctxInvoluntary: 0,
    },
    client: { tool: 'native', threads: 0, cpuPercent: 0, cpuUsPerOp: null, threadCpuPercentMax: 0, saturated: false },
    connectUs: null,
  };
}

export async function runCell(spec: CellSpec, plan: Plan, ctx: CellContext): Promise<Cell> {
  // cpu: the client's cost per request is small beside the work, and the question is whether a
  // model uses more cores than one, so the server may use every CPU; the cell records it.
  const pinning: Pinning = spec.scenario === 'cpu' && ctx.pinning.server !== null
    ? { ...ctx.pinning, server: [...new Set([...(ctx.pinning.client ?? []), ...ctx.pinning.server])].sort((a, b) => a - b) }
    : ctx.pinning;
  const cpus = { server: pinning.server, client: pinning.client };
  const info = modelInfo(plan, spec.model);
  const known = knownLimit(spec, plan, pinning.server?.length ?? availableParallelism());
  if (known) return { ...known, cpus };
  const missing = info?.external ? missingRequirement(info.external, spec.scenario) ?? missingRedis(info.external) : null;
  if (missing) return { ...emptyCell(spec, 'limit', missing), cpus };
  let backend: Waited | null = null;
  let server: Child | null = null;
  let client: Child | null = null;
  let idle: Child | null = null;
  const limits: string[] = [];
  const faults: string[] = [];
  const extra: Partial<Cell> = { cpus, ideal: idealFor(spec, plan, info?.cpuLanes, pinning.server?.length ?? availableParallelism()) };
  const redis = needsRedis(info?.external) ? ctx.redis ?? null : null;
  try {
    // Started now, it loads while the server starts; it is told the port once the server is verified.
    client = startClient(spec, plan, ctx);
    const redisBefore = needsRedis(info?.external) ? await readyRedis(redis) : null;
    let work: Work = { kind: 'none' };
    if (spec.scenario === 'io-wait') {
      backend = spec.backend === 'postgres' ? await useDatabase(ctx.database ?? null, spec, plan) : await startService(plan, pinning, spec);
      work = backend.work;
    } else if (spec.scenario === 'cpu') work = { kind: 'cpu', iterations: ctx.workIterations ?? 0 };
    const started = info?.external ? await startExternalServer(info.external, spec, plan, pinning, work, extra, redis?.port ?? null) : startBuiltIn(spec, plan, pinning, work);
    server = started.child;
    server.onLine((msg) => {
      if (msg?.event === 'limit' && !limits.includes(msg.reason)) limits.push(msg.reason);
      if (msg?.event === 'fault' && !faults.includes(msg.reason)) faults.push(msg.reason);
    });
    const port = await started.port;
    await verifyExchange('127.0.0.1', port, spec.protocol, 5000, info?.external?.checks ?? 'full');
    if (spec.scenario === 'idle') idle = await holdIdle(spec, plan, port, pinning);
    if (spec.sweepOf !== undefined) extra.idleCpu = await idleCpu(server.pid);
    const sampler = new TreeSampler(server.pid);
    // PostgreSQL's backends leave the postmaster's process group: its tree is followed by parent.
    const backendSampler = backend?.child ? new TreeSampler(backend.child.pid, 5, backend.work.backend === 'postgres' ? 'descendants' : 'group') : null;
    const redisSampler = redis ? new TreeSampler(redis.child.pid) : null;
    const twBefore = spec.scenario === 'churn' ? timeWaitSockets() : null;
    targetClient(client, port);
    // In cpu the client's CPUs are the server's too, by design: the union is judged as the server's.
    const shared = pinning.client !== null && pinning.server !== null && pinning.client.every((c) => pinning.server!.includes(c));
    const cores = new CoreSampler({ server: pinning.server, client: shared ? null : pinning.client });
    client.onLine((msg) => {
      if (msg?.event === 'measuring') cores.begin();
      else if (msg?.event === 'measured' || msg?.event === 'result') cores.end();
    });
    const result = await measure(client, server, [sampler, backendSampler, redisSampler], plan, backend, redis);
    if (twBefore !== null) extra.timeWait = { before: twBefore, after: timeWaitSockets() ?? 0 };
    const usage = backendSampler?.usage(result.durationS) ?? null;
    const redisUsage = redisSampler?.usage(result.durationS) ?? null;
    // The database counts a session when it ends: its figures are read once the server has gone.
    await stopGroup(server);
    if (backend) Object.assign(extra, await backend.finish(usage));
    if (redis && redisBefore) extra.redis = redisUsageBetween(redisBefore, await redis.counters(), redisUsage?.cpuPercent ?? null, redisUsage?.pssPeakBytes ?? null, redisUsage?.threadsPeak ?? 0);
    const measured = { ...toCell(spec, result, sampler, limits, { workerPerConnection: info?.workerPerConnection === true, backlogBeyond: info?.holdsConnections ? plan.workers : null }), ...extra };
    measured.ideal = withCpuBound(measured.ideal, measured, pinning.server?.length ?? availableParallelism());
    const cell = withWindowChecks(measured, cores);
    // Something outside the model went wrong (a wrong backend answer, a backend gone): never a normal row.
    if (faults.length > 0) return { ...cell, status: 'failed', reason: `the server reported: ${faults.join('; ')}` };
    return cell;
  } catch (e) {
    const reason = (e as Error).message;
    if (faults.length > 0) return { ...emptyCell(spec, 'failed', `the server reported: ${faults.join('; ')}; ${reason}`), ...extra };
    if (e instanceof LimitReached || limits.length > 0) return { ...emptyCell(spec, 'limit', [...limits, reason].join('; ')), ...extra };
    return { ...emptyCell(spec, 'failed', reason), ...extra };
  } finally {
    if (client) await stopGroup(client, 1000);
    if (idle) await stopGroup(idle, 1000);
    if (server) await stopGroup(server);
    if (backend) await backend.stop();
  }
}

/** A cell known to be a limit before anything starts (what the model cannot serve), or null. */
export function knownLimit(spec: CellSpec, plan: Plan, serverCpus: number): Cell | null {
  const info = modelInfo(plan, spec.model);
  if (info?.scenarios && !info.scenarios.includes(spec.scenario)) return emptyCell(spec, 'limit', info.scenarioLimit ?? `${spec.model} does not serve ${spec.scenario}`);
  if (info?.external && !declaredScenarios(info.external).includes(spec.scenario)) return emptyCell(spec, 'limit', undeclaredReason(info.external, spec.scenario));
  const max = info?.maxConcurrency;
  if (max !== undefined && spec.concurrency > max) return emptyCell(spec, 'limit', `${spec.model} serves at most ${max} connections: ${info?.limits ?? ''}`.trim());
  return null;
}

/** Why an external program's cell of a scenario it did not declare is a limit. */
function undeclaredReason(m: ExternalModel, scenario: string): string {
  const declared = declaredScenarios(m).join(', ');
  return m.scenarios
    ? `${m.name} does not declare ${scenario}: its models file entry serves ${declared} ("scenarios")`
    : `${m.name} does not declare ${scenario}: with no "scenarios" in its entry it serves ${declared}; io-wait, cpu and payload need the scenario contract (README: "Measure your own server")`;
}

/**
 * The best a cell's shape allows. io-wait: every request waits the backend's delay, and a model
 * holds at most min(connections, what it can hold) waits at once. cpu: every request burns the
 * work, and at most min(connections, lanes, server CPUs) burn at once. null elsewhere.
 */
export function idealFor(spec: Pick<CellKey, 'scenario' | 'concurrency' | 'model' | 'dbPool' | 'backendConnections' | 'backendDelayMs'>, plan: Pick<Plan, 'workers' | 'backendDelayMs' | 'workUs' | 'external'>, lanes: 'one' | 'workers' | 'connections' | undefined, serverCpus: number): Ideal | null {
  const info = modelInfo(plan, spec.model);
  const delayMs = delayOf(spec, plan);
  if (spec.scenario === 'io-wait' && delayMs > 0) {
    // A pool smaller than the connections caps the waits a loop holds; a blocking model holds one
    // connection per thread or process whatever the pool says.
    const pool = spec.backendConnections !== 'per-request' && spec.dbPool !== undefined && spec.dbPool < spec.concurrency && !info?.poolLimited && info?.workerPerConnection !== true ? spec.dbPool : Infinity;
    const held = Math.min(spec.concurrency, info?.poolLimited ? plan.workers : Infinity, pool);
    const caps = [info?.poolLimited ? `${plan.workers} workers` : '', pool !== Infinity ? `a pool of ${pool}` : ''].filter(Boolean);
    const waits = held / (delayMs / 1000);
    return { opsPerSec: waits, basis: `min(${spec.concurrency} connections, ${caps.length ? caps.join(', ') : 'no cap'}) / ${delayMs} ms`, bounds: { waits, cpu: null } };
  }
  if (spec.scenario === 'cpu' && lanes !== undefined) {
    const n = lanes === 'one' ? 1 : lanes === 'workers' ? plan.workers : spec.concurrency;
    const at = Math.min(spec.concurrency, n, serverCpus);
    const lane = lanes === 'one' ? '1 thread' : lanes === 'workers' ? `${plan.workers} workers` : 'one per connection';
    return { opsPerSec: at / (plan.workUs / 1e6), basis: `min(${spec.concurrency} connections, ${lane}, ${serverCpus} CPUs) / ${plan.workUs} µs` };
  }
  return null;
}

/** How long an equal-rate cell watches its server before the load: long enough for a tenth of a percent of a core. */
export const IDLE_PROBE_S = 0.5;

/** The server's CPU with nothing to do: started, checked, no connection open, no load yet. */
async function idleCpu(pgrp: number): Promise<{ percent: number; s: number }> {
  const sampler = new TreeSampler(pgrp);
  sampler.begin();
  await new Promise((r) => setTimeout(r, IDLE_PROBE_S * 1000));
  sampler.end();
  return { percent: Math.round(sampler.usage().cpuPercent * 10) / 10, s: Math.round(sampler.windowS * 1000) / 1000 };
}

/** How long an io-wait cell's backend holds each query, ms: its slice's own delay, else the plan's. */
export function delayOf(spec: Pick<CellKey, 'backendDelayMs'>, plan: Pick<Plan, 'backendDelayMs'>): number {
  return spec.backendDelayMs ?? plan.backendDelayMs;
}

/**
 * An io-wait ideal's second bound, once the cell has run: what the server's CPUs serve at the CPU
 * per request it measured. The lower bound is the ideal; a model near its CPU bound was limited by
 * its CPU, not by the waits it holds.
 */
export function withCpuBound(ideal: Ideal | null | undefined, cell: Pick<Cell, 'scenario' | 'ops' | 'server'>, serverCpus: number): Ideal | null {
  if (!ideal?.bounds || cell.scenario !== 'io-wait') return ideal ?? null;
  const cpuS = cell.server.cpuUserS + cell.server.cpuSysS;
  if (cell.ops <= 0 || cpuS <= 0) return ideal;
  const cpu = Math.round(serverCpus / (cpuS / cell.ops));
  const waits = ideal.bounds.waits;
  const basis = `${ideal.basis.replace(/^min\(/, 'waits: min(')}; CPU: ${serverCpus} CPU${serverCpus === 1 ? '' : 's'} / ${Math.round((cpuS / cell.ops) * 1e7) / 10} µs per request`;
  return { opsPerSec: Math.min(waits, cpu), basis, bounds: { waits, cpu } };
}

/** TCP sockets in TIME_WAIT on the machine, from /proc/net/sockstat; null where unreadable. */
function timeWaitSockets(): number | null {
  try {
    const m = /^TCP:.*\btw (\d+)/m.exec(readFileSync('/proc/net/sockstat', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** What one io-wait cell's requests wait on, as the cell sees it. */
interface Waited {
  work: IoWaitWork;
  /** The process group to sample and to watch for an early end; null for a database we did not start. */
  child: Child | null;
  /** Called once the server has stopped, with the group's usage over the window: the cell's figures of it. */
  finish(usage: ServerUsage | null): Promise<Partial<Cell>>;
  /** Ends what the cell started (the service); the run's database outlives the cell. */
  stop(): Promise<void>;
}

export function pooling(spec: CellSpec): Pick<IoWaitWork, 'connections' | 'pool'> {
  const connections = spec.backendConnections ?? 'pooled';
  return { connections, pool: connections === 'pooled' ? spec.dbPool ?? spec.concurrency : 0 };
}

/** The run's Redis before a cell: running, emptied of what an earlier cell left, its counters read. */
async function readyRedis(redis: Redis | null): Promise<Awaited<ReturnType<Redis['counters']>>> {
  if (redis === null) throw new Error('the model needs Redis, but the run has none (it did not start)');
  if (!redis.running()) throw new Error(`Redis is no longer running; stderr: ${redis.child.stderrTail() || '(empty)'}`);
  await redis.flush();
  return redis.counters();
}

/** The run's PostgreSQL for one cell: its counters are read before the server starts and after it stops. */
async function useDatabase(db: Database | null, spec: CellSpec, plan: Plan): Promise<Waited> {
  if (db === null) throw new Error('io-wait on postgres: the run has no database (it did not start)');
  if (!db.running()) {
    throw new Error(`the database is no longer running; stderr: ${db.child?.stderrTail() || '(empty)'}`);
  }
  const before = await db.counters();
  const work: IoWaitWork = {
    kind: 'io-wait', backend: 'postgres', backendHost: '127.0.0.1', backendPort: db.port, ...pooling(spec),
    postgres: { user: db.user, database: db.database, passwordFile: db.passwordFile, delayMs: delayOf(spec, plan) },
  };
  return {
    work,
    child: db.child,
    finish: async (usage) => {
      await db.settle();
      return { database: usageBetween(before, await db.counters(), usage?.cpuPercent ?? null, usage?.pssPeakBytes ?? null, usage?.processesPeak ?? 0) };
    },
    stop: async () => {},
  };
}

/** The remote-service stand-in, on the client's CPUs so it never takes the server's; ready once it listens. */
async function startService(plan: Plan, pinning: Pinning, spec: CellSpec): Promise<Waited> {
  const child = startGroup(process.execPath, [dist('servers/backend.js'), '--delay', `${delayOf(spec, plan)}ms`, ...backendTestArgs()], { cpus: pinning.client });
  let stats: BackendStatsMessage | null = null;
  child.onLine((msg) => {
    if (msg?.event === 'backend-stats') stats = msg;
  });
  try {
    const port = await waitForMessage(child, listeningPort, BACKEND_START_MS, 'backend start');
    return {
      work: { kind: 'io-wait', backend: 'service', backendHost: '127.0.0.1', backendPort: port, ...pooling(spec) },
      child,
      finish: async (usage) => {
        await stopGroup(child, 1000);
        // Its figures are the line it prints as it stops: 'exit' can come before that line is read.
        await streamClosed(child, 1000);
        const s: BackendStatsMessage | null = stats;
        const service: BackendUsage = { cpuPercent: usage?.cpuPercent ?? 0, queries: s?.queries ?? 0, waitingPeak: s?.waitingPeak ?? 0, connectionsPeak: s?.connectionsPeak ?? 0, connectionsOpened: s?.connectionsOpened ?? 0 };
        return { service };
      },
      stop: async () => void (await stopGroup(child, 1000)),
    };
  } catch (e) {
    await stopGroup(child, 1000);
    throw new Error(`the io-wait service did not start: ${(e as Error).message}`);
  }
}

/** Resolves once the child's stdout has been read to its end, or after `ms`. */
function streamClosed(child: Child, ms: number): Promise<void> {
  const out = child.proc.stdout;
  if (!out || out.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    out.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Tests make the backend misbehave through the environment (never set by a user-facing flag). */
function backendTestArgs(): string[] {
  const bad = process.env.CB_TEST_BACKEND_MISBEHAVE;
  return bad ? ['--misbehave', bad] : [];
}

interface Started {
  child: Child;
  /** Resolves with the port once the server is ready to be verified. */
  port: Promise<number>;
}

function startBuiltIn(spec: CellSpec, plan: Plan, pinning: Pinning, work: Work): Started {
  const args = [dist('servers/main.js'), '--model', spec.model, '--protocol', spec.protocol, '--port', '0', '--workers', String(plan.workers)];
  if (work.kind !== 'none') args.push('--work', workArg(work));
  const child = startGroup(process.execPath, args, { cpus: pinning.server });
  return { child, port: waitForMessage(child, listeningPort, LISTEN_TIMEOUT_MS, `${spec.model} server start`) };
}

/** How long a program that is ready may still take to print its calibration line, ms. */
const CALIBRATION_GRACE_MS = 2000;

/**
 * An external program gets a free port from us (it cannot tell us one) and its cell's contract in
 * its environment. It is ready when that port accepts (or its readyLine is seen) and, in cpu, once
 * it has reported its calibration, which the cell records; its ideal follows what its entry declares.
 */
async function startExternalServer(m: ExternalModel, spec: CellSpec, plan: Plan, pinning: Pinning, work: Work, extra: Partial<Cell>, redisPort: number | null): Promise<Started> {
  const port = await freePort();
  const serverCpus = pinning.server?.length ?? availableParallelism();
  extra.ideal = externalIdeal(m, spec, plan, serverCpus);
  const contract = contractEnv({ scenario: spec.scenario, protocol: spec.protocol, port, workers: plan.workers, backendDelayMs: delayOf(spec, plan), workUs: plan.workUs }, work, redisPort);
  const child = startExternal(m, port, plan.workers, spec.protocol, pinning.server, contract);
  let calibration: Promise<Calibration> | null = null;
  if (spec.scenario === 'cpu') {
    calibration = waitForMessage(child, (msg) => readCalibration(msg, m.name, plan.workUs), (m.readyTimeoutS ?? LISTEN_TIMEOUT_MS / 1000) * 1000 + CALIBRATION_GRACE_MS, `${m.name} calibration`);
    calibration.catch(() => {}); // read below, once ready
  }
  const ready = waitReady(m, child, port, (m.readyTimeoutS ?? LISTEN_TIMEOUT_MS / 1000) * 1000).then(async () => {
    if (calibration === null) return port;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(
      `${m.name} declares cpu but printed no {"event":"calibration","workUs":${plan.workUs},"iterations":N,"nsPerIteration":X} line by ${CALIBRATION_GRACE_MS} ms after it was ready`)), CALIBRATION_GRACE_MS)));
    try {
      extra.calibration = await Promise.race([calibration, late]);
    } finally {
      clearTimeout(timer);
    }
    return port;
  });
  return { child, port: ready };
}

/**
 * The ideal of an external program's cell, by the one rule the built-in models follow (idealFor):
 * a built-in model of the shape the entry declares stands in for it, since idealFor reads a
 * model's shape from the catalog.
 */
function externalIdeal(m: ExternalModel, spec: CellSpec, plan: Plan, serverCpus: number): Ideal | null {
  const like = { pool: 'epoll', connections: 'thread-per-connection', workers: 'thread-pool' }[m.waits ?? 'pool'];
  return idealFor({ ...spec, model: like }, { ...plan, external: [] }, m.cpuLanes, serverCpus);
}

/** Starts the idle-connection holder and waits until every idle connection has been answered once. */
async function holdIdle(spec: CellSpec, plan: Plan, port: number, pinning: Pinning): Promise<Child> {
  const idle = startGroup(
    process.execPath,
    [dist('clients/idle.js'), '--port', String(port), '--connections', String(plan.idleConnections), '--protocol', spec.protocol],
    { cpus: pinning.client },
  );
  try {
    await waitForMessage(idle, (m) => (m.event === 'idle' ? true : undefined), IDLE_TIMEOUT_MS, `${plan.idleConnections} idle connections`);
    return idle;
  } catch (e) {
    await stopGroup(idle, 1000);
    throw e;
  }
}

export function listeningPort(msg: EventMessage): number | undefined {
  if (msg.event === 'error') throw new Error(`server could not start: ${msg.message}`);
  return msg.event === 'listening' ? msg.port : undefined;
}

/** A request slower than this is a timeout error: long enough for a stall to show, bounded by the cell. */
function requestTimeoutMs(plan: Plan): number {
  return Math.min(CONNECT_CAP_MS, Math.max(2000, (plan.warmupS + plan.durationS) * 1000));
}

function startClient(spec: CellSpec, plan: Plan, ctx: CellContext): Child {
  return startGroup(process.execPath, [dist('clients/main.js'), ...clientArgs(spec, plan, 'stdin', spec.concurrency, ctx.clientThreads)], { cpus: ctx.pinning.client, stdin: true });
}

/** The port of the verified server, to a client started with `--target stdin`. */
function targetClient(client: Child, port: number): void {
  client.proc.stdin?.end(JSON.stringify({ target: `127.0.0.1:${port}` }) + '\n');
}

/** The load client's flags for a cell (an agent on a host gets these too, with its share of the connections). */
export function clientArgs(spec: CellSpec, plan: Plan, target: string, connections: number, threads: number): string[] {
  const args = [
    '--target', target,
    '--protocol', spec.protocol,
    '--connections', String(connections),
    '--threads', String(threads),
    '--warmup', `${plan.warmupS}s`,
    '--duration', `${plan.durationS}s`,
    '--pipeline', String(plan.pipeline),
    '--payload', String(spec.protocol === 'echo' && spec.payloadBytes !== undefined ? spec.payloadBytes : plan.payloadBytes),
    '--timeout', `${requestTimeoutMs(plan)}ms`,
    '--connect-timeout', `${CONNECT_CAP_MS}ms`,
    '--events',
  ];
  if (spec.protocol === 'http') args.push('--http-client', plan.httpClient);
  if (spec.protocol === 'http' && spec.payloadBytes !== undefined) args.push('--path', `/bytes/${spec.payloadBytes}`);
  if (spec.rate !== null) {
    args.push('--rate', String(spec.rate));
    // An equal-rate cell compares models at one offered load: each gets the same arrivals, not a
    // batching its own client chose by how busy it happened to be.
    const batch = plan.sendBatchUs ?? (spec.sweepOf !== undefined ? 0 : null);
    if (batch !== null) args.push('--send-batch', String(batch));
  }
  if (spec.scenario === 'churn') args.push('--churn');
  return args;
}

/**
 * The pinned CPUs' busy time goes into the cell; a full client side is a saturated client, whoever
 * filled it. So does the window's drift, first fifth against last.
 */
function withWindowChecks(cell: Cell, cores: CoreSampler): Cell {
  const usage = cores.usage();
  cell = { ...cell, drift: windowDrift(cell.timeline) };
  if (!usage) return { ...cell, cores: null };
  return { ...cell, cores: usage, client: usage.full.includes('client') ? { ...cell.client, saturated: true } : cell.client };
}

/** Runs the load; the sampler's window is the client's measured window, opened and closed by its lines. */
async function measure(client: Child, server: Child, samplers: [TreeSampler, TreeSampler | null, TreeSampler | null], plan: Plan, backend: Waited | null, redis: Redis | null): Promise<ClientResult> {
  const [sampler, backendSampler, redisSampler] = samplers;
  // The client says when its window opens and closes; the sampler reads the tree at both moments
  // and scales its counts to the client's window (see TreeSampler.usage).
  client.onLine((msg) => {
    if (msg?.event === 'measuring') {
      sampler.begin();
      backendSampler?.begin();
      redisSampler?.begin();
    } else if (msg?.event === 'measured' || msg?.event === 'result') {
      sampler.end();
      backendSampler?.end();
      redisSampler?.end();
    }
  });
  let stopBudget!: (e: Error) => void;
  const overBudget = new Promise<never>((_, reject) => (stopBudget = reject));
  const timer = setInterval(() => {
    sampler.tick();
    backendSampler?.tick();
    redisSampler?.tick();
    if (sampler.lastMemoryBytes > plan.memoryBudgetBytes) {
      const mib = (b: number): string => `${Math.round(b / 2 ** 20)} MiB`;
      stopBudget(new LimitReached(`server tree memory ${mib(sampler.lastMemoryBytes)} crossed the memory budget of ${mib(plan.memoryBudgetBytes)}`));
    }
  }, SAMPLE_INTERVAL_MS);
  // wrk takes whole seconds and runs its warm-up as a second run: allow for both.
  const timeoutMs = (Math.ceil(plan.warmupS) + Math.ceil(plan.durationS)) * 1000 + CONNECT_CAP_MS + 15_000;
  try {
    return await Promise.race([
      waitForMessage(client, (m) => (m.event === 'result' ? m : undefined), timeoutMs, 'load client'),
      server.exited.then((code): never => {
        throw new Error(`server exited (${code}) during the load; stderr: ${server.stderrTail() || '(empty)'}`);
      }),
      ...(backend?.child ? [backend.child.exited.then((code): never => {
        throw new Error(`the io-wait ${backend.work.backend === 'postgres' ? 'database' : 'backend service'} exited (${code}) during the load`);
      })] : []),
      ...(redis ? [redis.child.exited.then((code): never => {
        throw new Error(`Redis exited (${code}) during the load`);
      })] : []),
      overBudget,
    ]);
  } finally {
    clearInterval(timer);
  }
}

/** What a model's unanswered connections mean: it could not start workers fast enough, or they wait in its backlog. */
export interface Shortfall {
  workerPerConnection: boolean;
  /** A model whose --workers each hold a connection (prefork): the workers; else null. */
  backlogBeyond: number | null;
}

/** A limit reached keeps the cell's measured figures: what the model did serve is part of the answer. */
export function toCell(spec: CellSpec, r: ClientResult, sampler: Pick<TreeSampler, 'usage' | 'memoryTimeline'>, limits: string[], shortfall: Shortfall): Cell {
  const base = {
    ...spec,
    durationS: r.durationS,
    ops: r.ops,
    opsPerSec: r.opsPerSec,
    bytesPerSec: r.bytesPerSec,
    errors: r.errors,
    latencyUs: r.latencyUs,
    latencyUncorrectedUs: r.latencyUncorrectedUs,
    rateShortfall: r.rateShortfall,
    reconnects: r.reconnects,
    outstanding: r.outstanding,
    window: r.window,
    warmup: r.warmup ?? null,
    histograms: r.histograms,
    timeline: r.timeline ? { ...r.timeline, ...sampler.memoryTimeline(r.timeline.intervalS, r.timeline.ops.length) } : null,
    server: sampler.usage(r.durationS),
    client: r.client,
    connectUs: r.connectUs,
  };
  if (limits.length > 0) return { ...base, status: 'limit', reason: limits.join('; ') };
  if (r.ops === 0) return { ...base, status: 'failed', reason: `no operation completed in the window; errors: ${JSON.stringify(r.errors.byCode)}` };
  // In churn connections open and close all the time: how many were open at the window's start says nothing.
  const short = r.connections < spec.concurrency && spec.scenario !== 'churn';
  const workers = shortfall.backlogBeyond;
  const backlog = short && workers !== null && spec.concurrency > workers;
  // A request on a connection left in the backlog times out at the connect cap: the model's nature, not a wrong answer.
  const tooMany = errorReason(r.ops, backlog ? withoutTimeouts(r.errors) : r.errors);
  if (tooMany) return { ...base, status: 'failed', reason: tooMany };
  if (short) {
    const answered = `only ${r.connections} of ${spec.concurrency} connections were answered within the ${CONNECT_CAP_MS / 1000} s connect cap`;
    if (shortfall.workerPerConnection) return { ...base, status: 'limit', reason: `${answered}: starting a worker per connection could not keep up` };
    // The client stops waiting for first answers once none has come for a while (or at the cap).
    if (backlog) {
      const waiting = spec.concurrency - r.connections;
      return { ...base, status: 'limit', reason: `only ${r.connections} of ${spec.concurrency} connections had been answered when the window opened: ${spec.model} serves ${workers} at once (--workers ${workers}); the other ${waiting} waited in the accept backlog, unanswered` };
    }
    return { ...base, status: 'failed', reason: answered };
  }
  return { ...base, status: 'ok' };
}

/** The errors that are not a request left unanswered at the connect cap or the request timeout. */
function withoutTimeouts(errors: { total: number; byCode: Record<string, number> }): { total: number; byCode: Record<string, number> } {
  const byCode = Object.fromEntries(Object.entries(errors.byCode).filter(([k]) => k !== 'timeout' && k !== 'connect-timeout'));
  return { total: Object.values(byCode).reduce((a, b) => a + b, 0), byCode };
}

/** Wrong answers are never throughput: a cell whose errors pass ERROR_THRESHOLD of its attempts fails. */
export function errorReason(ops: number, errors: { total: number; byCode: Record<string, number> }): string | null {
  const attempts = ops + errors.total;
  if (errors.total === 0 || errors.total <= ERROR_THRESHOLD * attempts) return null;
  const pct = ((errors.total / attempts) * 100).toFixed(1);
  const kinds = Object.entries(errors.byCode).map(([k, v]) => `${k} ${v}`).join(', ');
  return `${errors.total} errors in ${attempts} attempts (${pct}%, over the ${ERROR_THRESHOLD * 100}% allowed): ${kinds}`;
}
