// A run: every cell of the plan in turn, each appended to results.json as soon as it is measured.
import { renameSync, symlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { emptyCell, runCell, SAMPLE_INTERVAL_MS, type CellContext, type CellSpec } from './cell.js';
import { calibrate } from '../schema/work.js';
import { choosePinning, collectEnv, defaultClientThreads } from './env.js';
import { ERROR_THRESHOLD, modelInfo, SWEEP_FRACTIONS, type Plan } from './plan.js';
import type { Slice } from './suites.js';
import { startPostgres } from './database.js';
import { versionLine } from './external.js';
import { SCHEMA_VERSION, type Cell, type Results } from '../schema/results.js';
import { writeJsonAtomic } from '../schema/atomic-write.js';
import { removeStaleTemps } from './guard.js';
import { startRunRedis } from './redis.js';

/**
 * Repetitions are the outer loop, so repetition 2 of a cell runs after every cell's repetition 1:
 * slow drift on a shared machine spreads over all cells instead of landing on one.
 */
export function planCells(plan: Plan): CellSpec[] {
  const cells: CellSpec[] = [];
  const seen = new Set<string>();
  for (let repetition = 1; repetition <= plan.repetitions; repetition++) {
    for (const slice of plan.slices) {
      const { scenario } = slice;
      for (const protocol of slice.protocols) {
        for (const model of plan.models) {
          if (slice.models !== null && !slice.models.includes(model)) continue;
          const info = modelInfo(plan, model)!;
          if (!info.protocols.includes(protocol)) continue;
          for (const concurrency of slice.concurrency) {
            const variants: Partial<CellSpec>[] = scenario === 'io-wait'
              ? ioWaitVariants(slice, plan, concurrency)
              : scenario === 'payload' ? (slice.payloadSizes ?? []).map((payloadBytes) => ({ payloadBytes })) : [{}];
            for (const variant of variants) {
              const key = { model, family: info.family, protocol, scenario, concurrency, repetition, ...variant };
              const id = JSON.stringify(key); // two slices may name the same cell (an explicit flag made them alike)
              if (seen.has(id)) continue;
              seen.add(id);
              if (plan.rates === null || plan.rates === 'sweep') cells.push({ ...key, rate: null });
              // A sweep cell follows its closed-loop cell, whose throughput sets its rate.
              if (plan.rates === 'sweep') for (const f of SWEEP_FRACTIONS) cells.push({ ...key, rate: null, sweepFraction: f });
              else if (plan.rates !== null) for (const rate of plan.rates) cells.push({ ...key, rate });
            }
          }
        }
      }
    }
  }
  return cells;
}

/** io-wait's variants of one cell: each backend, each way of connecting, and when pooled each pool size. */
function ioWaitVariants(slice: Slice, plan: Plan, concurrency: number): Partial<CellSpec>[] {
  return (slice.backends ?? ['postgres']).flatMap((backend) => (slice.backendConnections ?? ['pooled']).flatMap((backendConnections): Partial<CellSpec>[] =>
    backendConnections === 'pooled'
      // A pool never holds more connections than requests in flight: a size above the cell's
      // connections runs as the connections (and meets that cell, run once).
      ? [...new Set((plan.dbPools ?? slice.dbPools ?? [concurrency]).map((p) => Math.min(p, concurrency)))].map((dbPool) => ({ backend, backendConnections, dbPool }))
      : [{ backend, backendConnections }]));
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
 * What the plan will take, seconds, from the windows, the overhead per cell and what is known to
 * be slow: a model that starts a worker per connection pays its start-up per connection (at most
 * the connect cap), the io-wait backend its own start. Cells recorded as limit without running cost nothing.
 */
/**
 * Warm-up beyond --warmup while the load settles (clients/load.ts), on average: a default run here
 * took 0.56 s of warm-up per cell for --warmup 0.3s (median 0.55 s; 180 of 181 cells settled).
 */
const WARMUP_SETTLE_S = 0.26;

export function estimatePlanS(plan: Plan): number {
  let total = 0;
  for (const c of planCells(plan)) {
    const info = modelInfo(plan, c.model)!;
    if (info.scenarios && !info.scenarios.includes(c.scenario)) continue;
    if (info.poolLimited && c.concurrency > plan.workers && c.scenario !== 'churn') continue;
    let s = plan.warmupS + WARMUP_SETTLE_S + plan.durationS + CELL_OVERHEAD_S;
    if (info.workerPerConnection && c.scenario !== 'churn' && !info.family.startsWith('native')) {
      s += Math.min(20, c.concurrency * (info.family === 'per-process' ? 0.08 : 0.06));
    }
    if (c.scenario === 'io-wait') s += c.backend === 'postgres' ? 0.6 : 0.4;
    if (c.scenario === 'idle') s += 1;
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
  const pinning = choosePinning(plan.pin, plan.serverCpus);
  // The CPU loop is timed once per run, here, so every model burns the same number of iterations.
  const work = plan.scenarios.includes('cpu') ? { us: plan.workUs, ...calibrate(plan.workUs) } : null;
  const ctx: CellContext = { pinning, clientThreads: plan.clientThreads ?? defaultClientThreads(pinning), workIterations: work?.iterations ?? null, database: null };
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
    env: collectEnv(pinning),
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
      errorThreshold: ERROR_THRESHOLD,
      suite: plan.suite,
      slices: plan.slices,
      backendDelayMs: plan.backendDelayMs,
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
    ctx.database = await startPostgres({ auth: plan.postgresAuth, maxConnections: need.maxConnections, cpus: pinning.client, url: plan.postgresUrl });
    results.settings.database = ctx.database.info;
    writeJsonAtomic(file, results);
    const d = ctx.database.info;
    log(`database: ${d.source === 'embedded' ? 'embedded' : 'your'} ${d.version.split(' on ')[0]} at ${d.url}, ${d.auth === 'scram' ? 'SCRAM-SHA-256' : 'trust'} authentication, ` +
      `${d.source === 'embedded' ? `max_connections ${need.maxConnections}, fsync off, ` : ''}table ${d.table} (${d.rows.toLocaleString('en-US')} rows), ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  try {
    ctx.redis = await startRunRedis(plan, planCells(plan), pinning, results, log);
    if (ctx.redis) writeJsonAtomic(file, results);
    await runCells(plan, ctx, results, file, log);
  } finally {
    await ctx.redis?.stop();
    await ctx.database?.stop();
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
      ? emptyCell(resolved, 'limit', `no closed-loop throughput to sweep from: ${sweepBase(spec, results.cells)?.reason ?? 'its closed-loop cell did not run'}`)
      : await runCell(resolved, plan, ctx).catch((e: Error) => emptyCell(resolved, 'failed', `harness: ${e.message}`));
    results.cells.push(cell);
    writeJsonAtomic(file, results);
    log(`        ${summary(cell)}`);
  }
}

/** The closed-loop cell a sweep cell takes its rate from: same model, protocol, scenario, concurrency, repetition. */
function sweepBase(spec: CellSpec, done: readonly Cell[]): Cell | undefined {
  return done.find((c) => c.rate === null && c.sweepFraction === undefined && c.model === spec.model && c.protocol === spec.protocol &&
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
  const rate = s.rate === null ? '' : ` rate=${s.rate.toLocaleString('en-US')}/s${s.sweepFraction !== undefined ? ` (${s.sweepFraction * 100}% of closed loop)` : ''}`;
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
  if (c.rateShortfall) parts.push(`RATE SHORTFALL (${Math.round(c.rateShortfall.achievedOpsPerSec)} of ${Math.round(c.rateShortfall.targetOpsPerSec)}/s)`);
  if (c.client.cpuUsPerOp !== null) parts.push(`client ${c.client.cpuUsPerOp.toFixed(1)} µs/op (${c.client.tool})`);
  if (c.client.sendLagUs) parts.push(`send lag p50 ${c.client.sendLagUs.p50} µs, p99 ${c.client.sendLagUs.p99} µs`);
  if (c.client.saturated) parts.push('CLIENT SATURATED');
  if (c.warmup && !c.warmup.settled) parts.push(`WARM-UP CAPPED at ${c.warmup.s} s: the load had not settled`);
  if (c.drift?.drifts) parts.push(`DRIFT: first fifth of the window at ${c.drift.ratio}× the last`);
  if (c.ideal) parts.push(`ideal ${Math.round(c.ideal.opsPerSec).toLocaleString('en-US')} ops/s`);
  if (c.service) parts.push(`service CPU ${Math.round(c.service.cpuPercent)}%`);
  if (c.database) {
    parts.push(`database${c.database.cpuPercent === null ? '' : ` CPU ${Math.round(c.database.cpuPercent)}%,`} ${c.database.sessionsOpened.toLocaleString('en-US')} sessions for ${c.database.queries.toLocaleString('en-US')} queries`);
  }
  if (c.scenario === 'churn' && c.connectUs) parts.push(`connect p50 ${c.connectUs.p50} µs`);
  return parts.join(', ');
}
