// One cell across machines: the server on the server host, N load agents (one per load host, or
// one here when none is named) started paused, their clocks measured, released together into one
// window, their results merged exactly (harness/merge.ts). The remote processes run inside the
// remote wrapper (remote-group.ts), whose /proc sampler reads the server there. io-wait's backend
// is on the --db-host (remote-backend.ts): the run's database, or a service stand-in per cell.
// Every failure is a cell with a reason that names the host; nothing here throws past runHostCell.
import type { ClientResult, RemoteUsageMessage } from '../schema/messages.js';
import type { Cell, HostEnv, ServerUsage } from '../schema/results.js';
import { windowDrift } from '../schema/results.js';
import { workArg, type Work } from '../schema/work.js';
import { clientArgs, CONNECT_CAP_MS, emptyCell, idealFor, knownLimit, listeningPort, toCell, type CellContext, type CellSpec } from './cell.js';
import { closed, monotonicMs, pingOffset, startRemote, stopRemote, type RemoteChild } from './hosts.js';
import type { HostsPlan, HostSpec } from './host-flags.js';
import { mergeAgents, type AgentPart } from './merge.js';
import { dist } from './paths.js';
import { modelInfo, type Plan } from './plan.js';
import { startRemoteService, useRemoteDatabase, type HostBackend, type RemoteDatabase } from './remote-backend.js';
import { startGroup, stopGroup, waitForMessage, type Child } from './processes.js';
import { verifyExchange } from './verify.js';

/** A plan's hosts once checked: where the server listens, and each host's figures. */
export interface ResolvedHosts {
  plan: HostsPlan;
  /** The server host's IPv4 address: the server binds it, the agents target it, nothing else. */
  serverAddress: string;
  /** The db host's IPv4 address, where the servers find io-wait's backend; null without --db-host. */
  dbAddress: string | null;
  envs: HostEnv[];
  /** The run's database on the db host, once started (an io-wait cell on postgres is planned). */
  database: RemoteDatabase | null;
}

/** Time between the release and the load's start, beyond the slowest round trip: every agent has its start line by then. */
const RELEASE_LEAD_MS = 300;
const LISTEN_TIMEOUT_MS = 20_000;

/** An agent as the cell drives it: a remote one over ssh, or one here. */
interface Agent {
  name: string;
  /** As perHost names it: the plan's `[user@]host[:port]`, or `local`. */
  host: string;
  child: Child;
  send(o: unknown): void;
  stop(): Promise<void>;
}

export async function runHostCell(spec: CellSpec, plan: Plan, ctx: CellContext, hosts: ResolvedHosts): Promise<Cell> {
  const hp = hosts.plan;
  const serverHost = hp.server!;
  const serverEnv = hosts.envs.find((e) => e.role === 'server' && e.host === serverHost.spec);
  const known = knownLimit(spec, plan, serverEnv?.cpus ?? 1);
  if (known) return known;
  const info = modelInfo(plan, spec.model);
  let server: RemoteChild | null = null;
  let backend: HostBackend | null = null;
  const agents: Agent[] = [];
  const limits: string[] = [];
  const faults: string[] = [];
  const stopLoad = async (): Promise<void> => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    const s = server;
    server = null;
    if (s) await stopRemote(s);
  };
  try {
    let work: Work = { kind: 'none' };
    if (spec.scenario === 'io-wait') {
      if (hosts.dbAddress === null) throw new Error('io-wait across machines needs --db-host');
      backend = spec.backend === 'postgres' ? await useRemoteDatabase(hosts.database, spec, plan) : await startRemoteService(hp, hosts.dbAddress, spec, plan);
      work = backend.work;
    }
    server = startRemote(serverHost, hp, serverArgv(spec, plan, hp, hosts.serverAddress, work), backend?.secret ?? null);
    server.onLine((msg) => {
      if (msg?.event === 'limit' && !limits.includes(msg.reason)) limits.push(msg.reason);
      if (msg?.event === 'fault' && !faults.includes(msg.reason)) faults.push(msg.reason);
    });
    const port = await named(`server host ${serverHost.spec}`, waitForMessage(server, listeningPort, LISTEN_TIMEOUT_MS, `${spec.model} server start`));
    await named(`server host ${serverHost.spec}`, verifyExchange(hosts.serverAddress, port, spec.protocol, 5000));
    const target = `${hosts.serverAddress}:${port}`;
    const shares = split(spec.concurrency, Math.max(1, hp.load.length));
    for (const [i, connections] of shares.entries()) agents.push(startAgent(hp, hp.load[i] ?? null, ctx, [...clientArgs(spec, plan, target, connections, threadsFor(plan, ctx, hosts, hp.load[i])), '--agent', `${i}/${shares.length}`]));
    const result = await measureAcross(spec, plan, server, agents, backend);
    const tl = result.result.timeline;
    const remote = await named(`server host ${serverHost.spec}`, remoteUsage(server, tl ? { intervalS: tl.intervalS, slots: tl.ops.length } : null));
    // The database counts a session when it ends: its figures are read once the server has gone.
    await stopLoad();
    const waited = backend ? await named(`db host ${hp.db!.spec}`, backend.finish()) : {};
    // The sampler ran on the server host; what it read comes back as the cell's server figures.
    const sampled = {
      usage: (): ServerUsage => remote.usage,
      memoryTimeline: (_: number, slots: number) => remote.memory ?? { rssBytes: new Array<null>(slots).fill(null), pssBytes: new Array<null>(slots).fill(null) },
    };
    const cell: Cell = {
      ...toCell(spec, result.result, sampled, limits, { workerPerConnection: info?.workerPerConnection === true, backlogBeyond: info?.holdsConnections ? plan.workers : null }),
      ...waited, perHost: result.perHost, cpus: { server: null, client: null }, cores: null,
      ideal: idealFor(spec, plan, info?.cpuLanes, serverEnv?.cpus ?? 1),
    };
    cell.drift = windowDrift(cell.timeline);
    if (faults.length > 0) return { ...cell, status: 'failed', reason: `the server reported: ${faults.join('; ')}` };
    return cell;
  } catch (e) {
    const reason = (e as Error).message;
    if (limits.length > 0) return emptyCell(spec, 'limit', [...limits, reason].join('; '));
    return emptyCell(spec, 'failed', reason);
  } finally {
    await stopLoad();
    await backend?.stop();
  }
}

/** Connections divided among agents, the first ones one more; never an agent with none. */
export function split(connections: number, agents: number): number[] {
  const n = Math.min(connections, agents);
  return Array.from({ length: n }, (_, i) => Math.floor(connections / n) + (i < connections % n ? 1 : 0));
}

function serverArgv(spec: CellSpec, plan: Plan, hp: HostsPlan, address: string, work: Work): string[] {
  return ['node', `${hp.remoteDir}/dist/servers/main.js`, '--model', spec.model, '--protocol', spec.protocol, '--port', '0', '--host', address, '--workers', String(plan.workers),
    ...(work.kind !== 'none' ? ['--work', workArg(work)] : [])];
}

/** A load host's threads: --client-threads, else one per CPU there (the host does nothing else); here, the run's. */
function threadsFor(plan: Plan, ctx: CellContext, hosts: ResolvedHosts, h: HostSpec | undefined): number {
  if (h === undefined) return ctx.clientThreads;
  return plan.clientThreads ?? hosts.envs.find((e) => e.role === 'load' && e.host === h.spec)?.cpus ?? 1;
}

function startAgent(hp: HostsPlan, h: HostSpec | null, ctx: CellContext, args: string[]): Agent {
  if (h !== null) {
    const c = startRemote(h, hp, ['node', `${hp.remoteDir}/dist/clients/main.js`, ...args]);
    return { name: `load host ${h.spec}`, host: h.spec, child: c, send: c.send, stop: () => stopRemote(c) };
  }
  const started = startGroup(process.execPath, [dist('clients/main.js'), ...args], { cpus: ctx.pinning.client, stdin: true });
  const c = { ...started, exited: closed(started) };
  const send = (o: unknown): void => void (c.proc.stdin?.writable && c.proc.stdin.write(JSON.stringify(o) + '\n'));
  return { name: 'the local agent', host: 'local', child: c, send, stop: async () => void (await stopGroup(c, 1000)) };
}

/** An error from `p` with the host it concerns at the front. */
async function named<T>(who: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw new Error(`${who}: ${(e as Error).message}`);
  }
}

/** What the /proc sampler on the server host read over the window, and its memory per interval. */
function remoteUsage(server: RemoteChild, timeline: { intervalS: number; slots: number } | null): Promise<RemoteUsageMessage> {
  const answer = waitForMessage(server, (m) => (m.event === 'remote-usage' ? m : undefined), 5000, 'the server host\'s sampler');
  server.send({ wrapper: 'usage', ...(timeline ? { timeline } : {}) });
  return answer;
}

/** Every way a process of the cell can end early (an agent before its result), as a rejection naming its host. */
function earlyEnd(server: RemoteChild, agents: readonly Agent[], delivered: readonly boolean[], progress: (i: number) => string, backend: HostBackend | null): Promise<never> {
  return Promise.race([
    ...(backend ? [backend.child.exited.then((code): never => {
      throw new Error(`db host ${backend.child.host.spec}: the ${backend.work.backend === 'postgres' ? 'database' : 'io-wait service'} (or the ssh session to it) exited (${code}) during the cell; stderr: ${backend.child.stderrTail() || '(empty)'}`);
    })] : []),
    server.exited.then((code): never => {
      throw new Error(`server host ${server.host.spec}: the server (or the ssh session to it) exited (${code}) during the cell; stderr: ${server.stderrTail() || '(empty)'}`);
    }),
    ...agents.map((a, i) => a.child.exited.then((code): Promise<never> => {
      if (delivered[i]) return new Promise<never>(() => {}); // its result is in: an agent ends after it
      throw new Error(`${a.name}: its agent (or the ssh session to it) exited (${code}) before its result (${progress(i)}); stderr: ${a.child.stderrTail() || '(empty)'}`);
    })),
  ]);
}

/**
 * Waits for every agent to be connected, measures each one's clock, releases all of them into one
 * window on the harness's clock (each told it on its own clock), brackets the server's sampler on
 * that window, and merges what they measured.
 */
async function measureAcross(spec: CellSpec, plan: Plan, server: RemoteChild, agents: Agent[], backend: HostBackend | null): Promise<ReturnType<typeof mergeAgents>> {
  const delivered = agents.map(() => false);
  // Each agent's intervals as they close: the cell's timeline is made of them, and a lost agent's say how far it got.
  const intervals: AgentPart['intervals'][] = agents.map(() => []);
  agents.forEach((a, i) => a.child.onLine((m) => {
    if (m?.event === 'interval') intervals[i]![m.k] = { ops: m.ops, latency: m.latency };
  }));
  const progress = (i: number): string => {
    const got = intervals[i]!.filter(Boolean);
    return got.length === 0 ? 'no interval of the window had arrived from it' : `${got.length} interval(s) of the window had arrived from it, ${got.reduce((a, x) => a + x.ops, 0)} ops`;
  };
  const early = earlyEnd(server, agents, delivered, progress, backend);
  early.catch(() => {}); // raced below
  const results = agents.map((a, i) => waitForMessage(a.child, (m) => {
    if (m.event !== 'result') return undefined;
    delivered[i] = true; // set as the line is read, before the exit that follows it
    return m;
  }, (plan.warmupS + plan.durationS) * 1000 + CONNECT_CAP_MS + 30_000, `${a.name}: load agent`));
  results.forEach((r) => r.catch(() => {}));
  const ready = agents.map((a) => named(a.name, waitForMessage(a.child, (m) => (m.event === 'agent-ready' ? m.connections : undefined), CONNECT_CAP_MS + 10_000, 'agent connect')));
  await Promise.race([Promise.all(ready), early]);
  const clocks: { offsetMs: number; uncertaintyMs: number; rttMs: number }[] = [];
  for (const a of agents) clocks.push(await Promise.race([named(a.name, pingOffset(a.child, a.send)), early]));
  const t0 = monotonicMs() + RELEASE_LEAD_MS + Math.max(...clocks.map((c) => c.rttMs));
  const window = { startMs: t0 + plan.warmupS * 1000, endMs: t0 + (plan.warmupS + plan.durationS) * 1000 };
  agents.forEach((a, i) => a.send({ start: { t0Ms: t0 + clocks[i]!.offsetMs, mStartMs: window.startMs + clocks[i]!.offsetMs, mEndMs: window.endMs + clocks[i]!.offsetMs } }));
  const timers = [
    setTimeout(() => {
      server.send({ wrapper: 'begin' });
      backend?.begin();
    }, window.startMs - monotonicMs()),
    setTimeout(() => {
      server.send({ wrapper: 'end' });
      backend?.end();
    }, window.endMs - monotonicMs()),
  ];
  try {
    const got: ClientResult[] = await Promise.race([Promise.all(results), early]);
    // The sampler's end is sent at the window's end; the usage is read after it.
    await new Promise((r) => setTimeout(r, Math.max(0, window.endMs - monotonicMs()) + 20));
    const parts: AgentPart[] = got.map((result, i) => ({ host: agents[i]!.host, agent: i, result, clock: clocks[i]!, intervals: intervals[i]! }));
    return mergeAgents(parts, window, spec.rate);
  } finally {
    timers.forEach(clearTimeout);
  }
}
