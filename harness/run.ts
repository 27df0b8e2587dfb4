// A run: every cell of the plan in turn, each appended to results.json as soon as it is measured.
import { renameSync, symlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { emptyCell, IDLE_PROBE_S, runCell, SAMPLE_INTERVAL_MS, type CellContext, type CellSpec } from './cell.js';
import { calibrate } from '../schema/work.js';
import { choosePinning, collectEnv, defaultClientThreads } from './env.js';
import { ERROR_THRESHOLD, modelInfo, SWEEP_FRACTIONS, type Plan } from './plan.js';
import type { Slice } from './suites.js';
import { startPostgres } from './database.js';
import { versionLine } from './external.js';
import { SCHEMA_VERSION, type Cell, type DatabaseInfo, type Results } from '../schema/results.js';
import { writeJsonAtomic } from '../schema/atomic-write.js';
import { removeStaleTemps } from './guard.js';
import { startRunRedis } from './redis.js';
import { checkHosts, resolveAddress } from './hosts.js';
import type { HostsPlan } from './host-flags.js';
import { runHostCell, type ResolvedHosts } from './host-cell.js';
import { startRemoteDatabase } from './remote-backend.js';

/** The plan's hosts checked (each one line and exit 2 when it cannot run the plan), with the server host's address. */
async function resolveHosts(hp: HostsPlan, log: (line: string) => void): Promise<ResolvedHosts> {
  const serverAddress = await resolveAddress(hp.server!, hp);
  const dbAddress = hp.db ? await resolveAddress(hp.db, hp) : null;
  const envs = await checkHosts(hp, log);
  for (const e of envs) {
    log(`host ${e.host} (${e.role}): Node ${e.node}, ${e.cpus} CPU(s) ${e.cpuModel}, kernel ${e.kernel}; clock ${e.clockOffsetMs >= 0 ? '+' : ''}${e.clockOffsetMs} ms ± ${e.clockUncertaintyMs} ms from here`);
  }
  if (hp.load.length === 0) log('load: one agent on this machine, to the server host');
  if (hp.db && hp.db.spec === hp.server!.spec) log(`note: the database and the server share ${hp.db.spec} (--db-host is --server-host): the database takes the server's cores`);
  return { plan: hp, serverAddress, dbAddress, envs, database: null };
}

/**
 * Repetitions are the outer loop, so repetition 2 of a cell runs after every cell's repetition 1:
 * slow drift on a shared machine spreads over all cells instead of landing on one. The noise
 * probe's extra readings are spread evenly through the whole run for the same reason.
 */
export function planCells(plan: Plan): CellSpec[] {
  const cells: CellSpec[] = [];
  const seen = new Set<string>();
  for (let repetition = 1; repetition <= plan.repetitions; repetition++) {
    for (const slice of plan.slices) {
      // Equal-rate cells follow every closed-loop cell of their slice, their reference's among them.
      const equal: CellSpec[] = [];
      const { scenario } = slice;
      for (const protocol of slice.protocols) {
        for (const model of plan.models) {
          if ((slice.models !== null && !slice.models.includes(model)) || slice.except?.includes(model)) continue;
          const info = modelInfo(plan, model)!;
          if (!info.protocols.includes(protocol)) continue;
          for (const concurrency of slice.concurrency) {
            const variants: Partial<CellSpec>[] = scenario === 'io-wait'
              ? ioWaitVariants(slice, plan, concurrency)
              : scenario === 'payload' ? (slice.payloadSizes ?? []).map((payloadBytes) => ({ payloadBytes })) : [{}];
            for (const variant of variants) {
              const key = { model, family: info.family, protocol, scenario, concurrency, repetition, ...variant };
              const of = slice.equalRate?.of;
              if (of !== undefined && plan.rates === null && plan.models.includes(of)) {
                for (const f of slice.equalRate!.fractions) addOnce(seen, equal, { ...key, rate: null, sweepFraction: f, sweepOf: of });
              }
              if (plan.rates === null || plan.rates === 'sweep') addOnce(seen, cells, { ...key, rate: null });
              // A sweep cell follows its closed-loop cell, whose throughput sets its rate.
              if (plan.rates === 'sweep') for (const f of SWEEP_FRACTIONS) addOnce(seen, cells, { ...key, rate: null, sweepFraction: f });
              else if (plan.rates !== null) for (const rate of plan.rates) addOnce(seen, cells, { ...key, rate });
            }
          }
        }
      }
      cells.push(...equal);
    }
  }
  return withNoiseReadings(cells, plan);
}

/** Two slices may name the same cell (an explicit flag made them alike): it runs once. */
function addOnce(seen: Set<string>, into: CellSpec[], spec: CellSpec): void {
  const id = JSON.stringify(spec);
  if (seen.has(id)) return;
  seen.add(id);
  into.push(spec);
}

/**
 * The noise probe's readings the plan lacks (its cell at the repetitions not planned), placed at
 * even intervals through the run: a reading per stretch of the run, so the spread includes what
 * changes over it.
 */
function withNoiseReadings(cells: CellSpec[], plan: Plan): CellSpec[] {
  const probe = plan.noise;
  if (!probe) return cells;
  const info = modelInfo(plan, probe.model)!;
  const isProbe = (c: CellSpec): boolean => c.model === probe.model && c.protocol === probe.protocol && c.scenario === probe.scenario &&
    c.concurrency === probe.concurrency && c.rate === null && c.sweepFraction === undefined && c.payloadBytes === undefined;
  const have = new Set(cells.filter(isProbe).map((c) => c.repetition));
  const missing: CellSpec[] = [];
  for (let repetition = 1; repetition <= probe.readings; repetition++) {
    if (!have.has(repetition)) missing.push({ model: probe.model, family: info.family, protocol: probe.protocol, scenario: probe.scenario, concurrency: probe.concurrency, repetition, rate: null });
  }
  const out = [...cells];
  // From the back, so that each insertion leaves the earlier positions where they were; never
  // between a closed-loop cell and the sweep cells that follow it.
  for (let k = missing.length; k >= 1; k--) {
    let at = Math.round((k * cells.length) / (missing.length + 1));
    while (at < out.length && out[at]!.sweepFraction !== undefined) at++;
    out.splice(at, 0, missing[k - 1]!);
  }
  return out;
}

/** io-wait's variants of one cell: each backend, each way of connecting, and when pooled each pool size. */
function ioWaitVariants(slice: Slice, plan: Plan, concurrency: number): Partial<CellSpec>[] {
  // Recorded on the cell only where its slice sets its own: the run's delay is in the settings.
  const own = slice.backendDelayMs !== undefined && slice.backendDelayMs !== plan.backendDelayMs ? { backendDelayMs: slice.backendDelayMs } : {};
  return (slice.backends ?? ['postgres']).flatMap((backend) => (slice.backendConnections ?? ['pooled']).flatMap((backendConnections): Partial<CellSpec>[] =>
    backendConnections === 'pooled'
      // A pool never holds more connections than requests in flight: a size above the cell's
      // connections runs as the connections (and meets that cell, run once).
      ? [...new Set((plan.dbPools ?? slice.dbPools ?? [concurrency]).map((p) => Math.min(p, concurrency)))].map((dbPool) => ({ backend, backendConnections, dbPool, ...own }))
      : [{ backend, backendConnections, ...own }]));
}

/** Whether the plan needs the run's PostgreSQL, and how many connections it may hold at once. */
export function databaseNeed(plan: Plan): { maxConnections: number } | null {
  const cells = planCells(plan).filter((c) => c.scenario === 'io-wait' && c.backend === 'postgres');
  if (cells.length === 0) return null;
  // Pools and per-request connections open lazily, at most one per request in flight; a connection
  // being closed holds its backend a moment longer, hence twice the most requests at once.
  return { maxConnections: Math.max(100, 2 * Math.max(...cells.map((c) => c.concurrency)) + 20) };
}

/**
 * Seconds a cell costs beyond its warm-up and window: start, verify, stop. Fitted to a default
 * run on two cores (estimated 9m04s with 1.1 s, measured 7m33s).
 */
const CELL_OVERHEAD_S = 0.5;

/**
 * Warm-up beyond --warmup while the load settles (clients/load.ts), on average: a default run here
 * took 0.56 s of warm-up per cell for --warmup 0.3s (median 0.55 s; 180 of 181 cells settled).
 */
const WARMUP_SETTLE_S = 0.26;
/**
 * How long the load client waits, once no new connection has been answered, before it gives up on
 * the rest and opens the window (CONNECT_STALL_MS in clients/main.ts, which the harness cannot import).
 */
const CONNECT_STALL_S = 3;

/**
 * What a cell across hosts costs beyond a local one, s: ssh sessions for the server and each agent,
 * the clock's round trips, the release lead and the sampler's answer, but no settling warm-up.
 * Measured on the namespace test bed: four cells of 0.3 s + 1 s took 3.2 s each on average.
 */
const HOST_CELL_EXTRA_S = 1.4;

/**
 * What the plan will take, seconds, from the windows, the overhead per cell and what is known to
 * be slow: a model that starts a worker per connection pays its start-up per connection (at most
 * the connect cap), a pool whose workers hold their connections (prefork) above --workers the
 * client's wait for the connections that are never answered, the io-wait backend its own start.
 * Cells recorded as limit without running (a scenario the model does not serve) cost nothing.
 */
export function estimatePlanS(plan: Plan): number {
  let total = 0;
  for (const c of planCells(plan)) {
    const info = modelInfo(plan, c.model)!;
    if (info.scenarios && !info.scenarios.includes(c.scenario)) continue;
    let s = plan.warmupS + (plan.hosts ? HOST_CELL_EXTRA_S : WARMUP_SETTLE_S) + plan.durationS + CELL_OVERHEAD_S;
    if (info.holdsConnections && c.concurrency > plan.workers && c.scenario !== 'churn') s += CONNECT_STALL_S;
    if (info.workerPerConnection && c.scenario !== 'churn' && !info.family.startsWith('native')) {
      s += Math.min(20, c.concurrency * (info.family === 'per-process' ? 0.08 : 0.06));
    }
    if (c.scenario === 'io-wait') s += c.backend === 'postgres' ? 0.6 : 0.4;
    if (c.scenario === 'idle') s += 1;
    if (c.sweepOf !== undefined) s += IDLE_PROBE_S;
    total += s;
  }
  return total;
}

export function formatDuration(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
}

export interface RunOutcome {
  runDir: string;
  results: Results;
  failed: number;
}

export async function runPlan(plan: Plan, command: string, log: (line: string) => void, onFile: (resultsFile: string) => void = () => {}): Promise<RunOutcome> {
  // Every host is checked before anything starts: a plan one of them cannot run is refused (exit 2).
  const hosts = plan.hosts ? await resolveHosts(plan.hosts, log) : null;
  const pinning = choosePinning(plan.pin, plan.serverCpus);
  // The CPU loop is timed once per run, here, so every model burns the same number of iterations.
  const work = plan.scenarios.includes('cpu') ? { us: plan.workUs, ...calibrate(plan.workUs) } : null;
  const ctx: CellContext = { pinning, clientThreads: plan.clientThreads ?? defaultClientThreads(pinning), workIterations: work?.iterations ?? null, database: null, hosts };
  // A writer killed between writing and renaming (an earlier run's SIGKILL) left its temporary file.
  const stale = removeStaleTemps(resolve(plan.out));
  if (stale.length > 0) log(`removed ${stale.length} temporary file(s) that killed runs left in ${plan.out}`);
  const runId = newRunId();
  const runDir = resolve(plan.out, runId);
  const results: Results = {
    schemaVersion: SCHEMA_VERSION,
    runId,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    command,
    env: { ...collectEnv(pinning), ...(hosts ? { hosts: hosts.envs } : {}) },
    settings: {
      durationS: plan.durationS,
      warmupS: plan.warmupS,
      payloadBytes: plan.payloadBytes,
      repetitions: plan.repetitions,
      models: plan.models,
      protocols: plan.protocols,
      concurrency: plan.concurrency,
      workers: plan.workers,
      sampleIntervalMs: SAMPLE_INTERVAL_MS,
      memoryBudgetBytes: plan.memoryBudgetBytes,
      scenarios: plan.scenarios,
      idleConnections: plan.idleConnections,
      skipped: plan.skipped,
      httpClient: plan.httpClient,
      clientThreads: ctx.clientThreads,
      pipeline: plan.pipeline,
      rates: plan.rates,
      sweepFractions: plan.rates === 'sweep' ? [...SWEEP_FRACTIONS] : [],
      sendBatchUs: plan.sendBatchUs,
      errorThreshold: ERROR_THRESHOLD,
      suite: plan.suite,
      slices: plan.slices,
      backendDelayMs: plan.backendDelayMs,
      noise: plan.noise,
      database: null,
      work,
      externalModels: plan.external.filter((m) => plan.models.includes(m.name)).map((m) => ({
        name: m.name, family: m.family, command: m.command, protocols: m.protocols, shell: m.shell === true, version: versionLine(m),
      })),
    },
    cells: [],
  };
  const file = join(runDir, 'results.json');
  writeJsonAtomic(file, results);
  onFile(file);
  pointLatest(plan.out, runId);
  log(`run ${runId}: suite ${plan.suite}, ${planCells(plan).length} cells, estimated ${formatDuration(estimatePlanS(plan))}; pinning: ${describePinning(pinning)}, ${ctx.clientThreads} load thread(s); writing ${file}`);
  if (work) log(`cpu: ${plan.workUs} µs of work per request = ${work.iterations.toLocaleString('en-US')} iterations of the CPU loop (${work.nsPerIteration.toFixed(2)} ns each, timed now); the server gets every CPU in cpu cells`);
  for (const s of plan.skipped) log(`note: ${s.model} left out of this run: ${s.reason}`);
  const need = databaseNeed(plan);
  if (need) {
    const t0 = Date.now();
    let d: DatabaseInfo;
    if (hosts?.dbAddress) {
      hosts.database = await startRemoteDatabase(hosts.plan, hosts.dbAddress, hosts.serverAddress, { auth: plan.postgresAuth, maxConnections: need.maxConnections });
      d = hosts.database.info;
    } else {
      ctx.database = await startPostgres({ auth: plan.postgresAuth, maxConnections: need.maxConnections, cpus: pinning.client, url: plan.postgresUrl });
      d = ctx.database.info;
    }
    results.settings.database = d;
    writeJsonAtomic(file, results);
    log(`database: ${d.source === 'embedded' ? 'embedded' : 'your'} ${d.version.split(' on ')[0]} at ${d.url}${d.host ? ` on db host ${d.host}` : ''}, ${d.auth === 'scram' ? 'SCRAM-SHA-256' : 'trust'} authentication, ` +
      `${d.source === 'embedded' ? `max_connections ${need.maxConnections}, fsync off, ` : ''}table ${d.table} (${d.rows.toLocaleString('en-US')} rows), ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  try {
    ctx.redis = await startRunRedis(plan, planCells(plan), pinning, results, log);
    if (ctx.redis) writeJsonAtomic(file, results);
    await runCells(plan, ctx, results, file, log);
  } finally {
    await ctx.redis?.stop();
    await ctx.database?.stop();
    await hosts?.database?.stop();
  }
  results.finishedAt = new Date().toISOString();
  writeJsonAtomic(file, results);
  return { runDir, results, failed: results.cells.filter((c) => c.status === 'failed').length };
}

async function runCells(plan: Plan, ctx: CellContext, results: Results, file: string, log: (line: string) => void): Promise<void> {
  const specs = planCells(plan);
  const started = Date.now();
  for (const [i, spec] of specs.entries()) {
    const resolved = resolveSweep(spec, results.cells);
    log(`[${i + 1}/${specs.length}] ${label(resolved)}${eta(started, i, specs.length)}`);
    const cell = resolved.rate === null && spec.sweepFraction !== undefined
      ? emptyCell(resolved, 'limit', `no closed-loop throughput to ${spec.sweepOf ? `take ${spec.sweepOf}'s rate from` : 'sweep from'}: ${sweepBase(spec, results.cells)?.reason ?? `${spec.sweepOf ? `${spec.sweepOf}'s` : 'its'} closed-loop cell did not run`}`)
      : await (ctx.hosts ? runHostCell(resolved, plan, ctx, ctx.hosts) : runCell(resolved, plan, ctx)).catch((e: Error) => emptyCell(resolved, 'failed', `harness: ${e.message}`));
    results.cells.push(cell);
    writeJsonAtomic(file, results);
    log(`        ${summary(cell)}`);
  }
}

/**
 * The closed-loop cell a sweep cell takes its rate from: same protocol, scenario, concurrency,
 * repetition, and its own model or the one it is measured against (sweepOf).
 */
function sweepBase(spec: CellSpec, done: readonly Cell[]): Cell | undefined {
  const model = spec.sweepOf ?? spec.model;
  return done.find((c) => c.rate === null && c.sweepFraction === undefined && c.model === model && c.protocol === spec.protocol &&
    c.scenario === spec.scenario && c.concurrency === spec.concurrency && c.repetition === spec.repetition &&
    c.backendConnections === spec.backendConnections && c.backend === spec.backend && c.dbPool === spec.dbPool && c.payloadBytes === spec.payloadBytes);
}

/** A sweep cell's rate: its fraction of the closed-loop throughput just measured (null when that cell was not ok). */
export function resolveSweep(spec: CellSpec, done: readonly Cell[]): CellSpec {
  if (spec.sweepFraction === undefined) return spec;
  const base = sweepBase(spec, done);
  if (!base || base.status !== 'ok' || base.opsPerSec <= 0) return spec;
  return { ...spec, rate: Math.max(1, Math.round(base.opsPerSec * spec.sweepFraction)) };
}

/** results/latest -> the newest run folder (replaced atomically). */
export function pointLatest(out: string, runId: string): void {
  const tmp = join(out, `.latest-${process.pid}`);
  rmSync(tmp, { force: true });
  try {
    symlinkSync(runId, tmp);
    renameSync(tmp, join(out, 'latest'));
  } catch {
    rmSync(tmp, { force: true }); // a file system without symlinks: the run folder is still printed
  }
}

function describePinning(p: { server: number[] | null; client: number[] | null; method: string }): string {
  return p.server ? `server on CPU ${p.server.join(',')}, client on CPU ${p.client?.join(',')} (${p.method})` : p.method;
}

function label(s: CellSpec): string {
  const rate = s.rate === null ? '' : ` rate=${s.rate.toLocaleString('en-US')}/s${s.sweepFraction !== undefined ? ` (${s.sweepFraction * 100}% of ${s.sweepOf ? `${s.sweepOf}'s ` : ''}closed loop)` : ''}`;
  const variant = (s.backend ? ` ${s.backend}` : '') + (s.backendConnections ? ` ${s.backendConnections}` : '') +
    (s.dbPool !== undefined && s.dbPool !== s.concurrency ? ` pool ${s.dbPool}` : '') + (s.payloadBytes !== undefined ? ` ${s.payloadBytes} B` : '');
  return `${s.model} ${s.protocol}${s.scenario === 'steady' ? '' : ` ${s.scenario}`}${variant} c=${s.concurrency}${rate} rep ${s.repetition}`;
}

function eta(startedMs: number, done: number, total: number): string {
  if (done === 0) return '';
  const left = ((Date.now() - startedMs) / done) * (total - done) / 1000;
  return `, about ${left >= 60 ? `${Math.floor(left / 60)}m${String(Math.round(left % 60)).padStart(2, '0')}s` : `${Math.round(left)}s`} left`;
}

function summary(c: Cell): string {
  if (c.status !== 'ok') return `${c.status}: ${c.reason ?? ''}`;
  const parts = [
    `${Math.round(c.opsPerSec).toLocaleString('en-US')} ops/s`,
    `p50 ${c.latencyUs.p50} µs`,
    `p99 ${c.latencyUs.p99} µs`,
    `server CPU ${Math.round(c.server.cpuPercent)}%`,
    `RSS ${Math.round(c.server.rssPeakBytes / 2 ** 20)} MiB`,
  ];
  if (c.errors.total > 0) parts.push(`${c.errors.total} errors ${JSON.stringify(c.errors.byCode)}`);
  if (c.perHost) parts.push(`agents: ${c.perHost.map((a) => `${a.host} ${Math.round(a.opsPerSec).toLocaleString('en-US')} ops/s p99 ${a.latencyUs.p99} µs${a.client.saturated ? ' SATURATED' : ''}`).join(', ')}`);
  if (c.rateShortfall) parts.push(`RATE SHORTFALL (${Math.round(c.rateShortfall.achievedOpsPerSec)} of ${Math.round(c.rateShortfall.targetOpsPerSec)}/s)`);
  if (c.client.cpuUsPerOp !== null) parts.push(`client ${c.client.cpuUsPerOp.toFixed(1)} µs/op (${c.client.tool})`);
  if (c.client.sendLagUs) parts.push(`send lag p50 ${c.client.sendLagUs.p50} µs, p99 ${c.client.sendLagUs.p99} µs${c.client.sendBatchUs ? ` (batches ${c.client.sendBatchUs} µs apart)` : ''}`);
  if (c.client.saturated) parts.push('CLIENT SATURATED');
  if (c.warmup && !c.warmup.settled) parts.push(c.perHost ? `WARM-UP of ${c.warmup.s} s, common to the agents: the load had not settled` : `WARM-UP CAPPED at ${c.warmup.s} s: the load had not settled`);
  if (c.drift?.drifts) parts.push(`DRIFT: first fifth of the window at ${c.drift.ratio}× the last${c.drift.noisePercent !== undefined ? ` (its intervals' noise ±${c.drift.noisePercent}%)` : ''}`);
  if (c.ideal) parts.push(`ideal ${Math.round(c.ideal.opsPerSec).toLocaleString('en-US')} ops/s`);
  if (c.idleCpu) parts.push(`server CPU before any load ${Math.round(c.idleCpu.percent)}%`);
  if (c.service) parts.push(`service CPU ${Math.round(c.service.cpuPercent)}%`);
  if (c.database) {
    parts.push(`database${c.database.cpuPercent === null ? '' : ` CPU ${Math.round(c.database.cpuPercent)}%,`} ${c.database.sessionsOpened.toLocaleString('en-US')} sessions for ${c.database.queries.toLocaleString('en-US')} queries`);
  }
  if (c.scenario === 'churn' && c.connectUs) parts.push(`connect p50 ${c.connectUs.p50} µs`);
  return parts.join(', ');
}
