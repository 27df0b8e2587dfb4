// One cell: start the server, verify it, load it, sample it, stop it. Every failure becomes a
// cell with a status and a reason; nothing here throws past runCell.
import type { ClientResult } from '../clients/messages.js';
import { findModel } from '../servers/catalog.js';
import type { Cell, CellKey, ClientUsage, Pinning } from './results.js';
import { dist } from './paths.js';
import type { Plan } from './plan.js';
import { startGroup, stopGroup, waitForMessage, type Child } from './processes.js';
import { processCpuS, TreeSampler } from './sampler.js';
import { verifyExchange } from './verify.js';

export const SAMPLE_INTERVAL_MS = 100;
const LISTEN_TIMEOUT_MS = 15_000;
/**
 * Longest a client waits for every connection's first answer before warming up: a model that starts
 * a process per connection takes a while, and one that cannot answer them all by then is at a limit.
 */
const CONNECT_CAP_MS = 20_000;
const IDLE_TIMEOUT_MS = 60_000;
/** A cell whose own client says so is `limit`; a model that prints a limit line is too. */
class LimitReached extends Error {}

export type CellSpec = CellKey;

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
    client: { cpuPercent: 0, saturated: false },
    connectUs: null,
  };
}

export async function runCell(spec: CellSpec, plan: Plan, pinning: Pinning): Promise<Cell> {
  const max = findModel(spec.model)?.maxConcurrency;
  if (max !== undefined && spec.concurrency > max) {
    return emptyCell(spec, 'limit', `${spec.model} serves at most ${max} connections: ${findModel(spec.model)?.limits ?? ''}`.trim());
  }
  // Known before running: the connections beyond the pool would only wait, and the chart stops there anyway.
  const poolReason = poolLimit(spec, plan.workers);
  if (poolReason) return emptyCell(spec, 'limit', poolReason);
  const server = startGroup(
    process.execPath,
    [dist('servers/main.js'), '--model', spec.model, '--protocol', spec.protocol, '--port', '0', '--workers', String(plan.workers)],
    { cpus: pinning.server },
  );
  const limits: string[] = [];
  server.onLine((msg) => {
    if (msg?.event === 'limit' && typeof msg.reason === 'string' && !limits.includes(msg.reason)) limits.push(msg.reason);
  });
  let client: Child | null = null;
  let idle: Child | null = null;
  try {
    const port = await waitForMessage(server, listeningPort, LISTEN_TIMEOUT_MS, `${spec.model} server start`);
    await verifyExchange('127.0.0.1', port, spec.protocol);
    if (spec.scenario === 'idle') idle = await holdIdle(spec, plan, port, pinning);
    const sampler = new TreeSampler(server.pid);
    client = startClient(spec, plan, port, pinning);
    const measured = await measure(client, server, sampler, plan);
    return toCell(spec, measured.result, sampler, measured.clientUsage, limits);
  } catch (e) {
    const reason = (e as Error).message;
    if (e instanceof LimitReached || limits.length > 0) return emptyCell(spec, 'limit', [...limits, reason].join('; '));
    return emptyCell(spec, 'failed', reason);
  } finally {
    if (client) await stopGroup(client, 1000);
    if (idle) await stopGroup(idle, 1000);
    await stopGroup(server);
  }
}

/** A fixed pool holding one connection per worker cannot serve more connections than workers at once. */
function poolLimit(spec: CellSpec, workers: number): string | null {
  if (!findModel(spec.model)?.poolLimited || spec.concurrency <= workers) return null;
  return `${spec.model} serves at most ${workers} connections at once (--workers ${workers}): ${spec.concurrency - workers} of ${spec.concurrency} would only wait; not run`;
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

function listeningPort(msg: Record<string, unknown>): number | undefined {
  if (msg.event === 'error') throw new Error(`server could not start: ${String(msg.message)}`);
  return msg.event === 'listening' && typeof msg.port === 'number' ? msg.port : undefined;
}

function startClient(spec: CellSpec, plan: Plan, port: number, pinning: Pinning): Child {
  const common = [
    '--port', String(port),
    '--connections', String(spec.concurrency),
    '--warmup', String(plan.warmupS),
    '--duration', String(plan.durationS),
    '--connect-cap-ms', String(CONNECT_CAP_MS),
  ];
  const args =
    spec.protocol === 'echo'
      ? [dist('clients/echo.js'), ...common, '--payload', String(plan.payloadBytes)]
      : [dist('clients/http.js'), ...common, '--timeout-s', String(CONNECT_CAP_MS / 1000)];
  return startGroup(process.execPath, args, { cpus: pinning.client });
}

interface Measured {
  result: ClientResult;
  clientUsage: ClientUsage;
}

/** Runs the load; the sampler's window is exactly the client's measured window. */
async function measure(client: Child, server: Child, sampler: TreeSampler, plan: Plan): Promise<Measured> {
  let clientCpuAtStart = 0;
  client.onLine((msg) => {
    if (msg?.event === 'measuring') {
      sampler.begin();
      clientCpuAtStart = processCpuS(client.pid) ?? 0;
    } else if (msg?.event === 'result') sampler.end();
  });
  let stopBudget!: (e: Error) => void;
  const overBudget = new Promise<never>((_, reject) => (stopBudget = reject));
  const timer = setInterval(() => {
    sampler.tick();
    if (sampler.lastMemoryBytes > plan.memoryBudgetBytes) {
      const mib = (b: number): string => `${Math.round(b / 2 ** 20)} MiB`;
      stopBudget(new LimitReached(`server tree memory ${mib(sampler.lastMemoryBytes)} crossed the memory budget of ${mib(plan.memoryBudgetBytes)}`));
    }
  }, SAMPLE_INTERVAL_MS);
  const timeoutMs = (plan.warmupS + plan.durationS) * 1000 + CONNECT_CAP_MS + 15_000;
  try {
    const result = await Promise.race([
      waitForMessage(client, (m) => (m.event === 'result' ? (m as unknown as ClientResult) : undefined), timeoutMs, 'load client'),
      server.exited.then((code): never => {
        throw new Error(`server exited (${code}) during the load; stderr: ${server.stderrTail() || '(empty)'}`);
      }),
      overBudget,
    ]);
    const cpuS = (processCpuS(client.pid) ?? clientCpuAtStart) - clientCpuAtStart;
    const cpuPercent = sampler.windowS > 0 ? (cpuS / sampler.windowS) * 100 : 0;
    // Both clients run their load on one thread, so one core is all they can ever be given.
    return { result, clientUsage: { cpuPercent, saturated: cpuPercent >= 90 } };
  } finally {
    clearInterval(timer);
  }
}

/** A limit reached keeps the cell's measured figures: what the model did serve is part of the answer. */
function toCell(spec: CellSpec, r: ClientResult, sampler: TreeSampler, client: ClientUsage, limits: string[]): Cell {
  const base = {
    ...spec,
    durationS: r.durationS,
    ops: r.ops,
    opsPerSec: r.opsPerSec,
    bytesPerSec: r.bytesPerSec,
    errors: r.errors,
    latencyUs: r.latencyUs,
    server: sampler.usage(),
    client,
    connectUs: r.connectUs,
  };
  if (limits.length > 0) return { ...base, status: 'limit', reason: limits.join('; ') };
  if (r.ops === 0) return { ...base, status: 'failed', reason: `no operation completed in the window; errors: ${JSON.stringify(r.errors.byCode)}` };
  if (r.connections < spec.concurrency) {
    const short = `only ${r.connections} of ${spec.concurrency} connections were answered within the ${CONNECT_CAP_MS / 1000} s connect cap`;
    if (findModel(spec.model)?.workerPerConnection) return { ...base, status: 'limit', reason: `${short}: starting a worker per connection could not keep up` };
    return { ...base, status: 'failed', reason: short };
  }
  return { ...base, status: 'ok' };
}
