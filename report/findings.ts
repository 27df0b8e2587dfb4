// Findings: what a run says about the claims people make of these models, each a small pure rule
// over the results file with its numbers and the chart behind it. A claim whose data is not in the
// file is "not measured", never guessed. With repetitions, a comparison whose confidence intervals
// overlap is "no clear difference".
import type { MicroResults, Protocol, Results, Scenario } from '../schema/results.js';
import { cpuUsPerOp, groupCells, summarize, type Point, type Summary } from './aggregate.js';
import { CHART_FILES } from './chart-files.js';

export type FindingVerdict = 'holds' | 'does not hold' | 'no clear difference' | 'not measured';

export interface Finding {
  id: string;
  /** The claim, as people put it. */
  question: string;
  verdict: FindingVerdict;
  /** One sentence with its numbers (or what is missing). */
  sentence: string;
  /** The chart file (under charts/) that shows it, when there is one. */
  chart?: string;
}

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ops = (s: Summary): string => (s.median < 1000 ? `${fmt(s.median, s.median < 10 ? 1 : 0)} ops/s` : `${fmt(s.median / 1000, s.median < 10_000 ? 1 : 0)}k ops/s`);
/** Microseconds as µs, ms or s, whichever reads best. */
const duration = (us: number): string => (us >= 10_000_000 ? `${fmt(us / 1e6, 1)} s` : us >= 10_000 ? `${fmt(us / 1000)} ms` : `${fmt(us)} µs`);
const ci = (s: Summary | null): string => (s?.ci ? ` [${fmt(s.ci.lo / 1000, 1)}–${fmt(s.ci.hi / 1000, 1)}k]` : '');

class Data {
  private readonly points: Point[];
  constructor(readonly results: Results) {
    this.points = groupCells(results.cells).filter((p) => p.rate === null && p.sweepFraction === undefined);
  }

  point(model: string, protocol: Protocol, scenario: Scenario, concurrency: number, variant = ''): Point | undefined {
    return this.points.find((p) => p.model === model && p.protocol === protocol && p.scenario === scenario && p.concurrency === concurrency && p.variant === variant);
  }

  /** Every closed-loop point of a scenario (and variant, when given). */
  of(scenario: Scenario, variant?: string): Point[] {
    return this.points.filter((p) => p.scenario === scenario && (variant === undefined || p.variant === variant));
  }

  /** Concurrencies where every one of `models` has an ok point, ascending. */
  common(models: string[], protocol: Protocol, scenario: Scenario): number[] {
    const sets = models.map((m) => new Set(this.points.filter((p) => p.model === m && p.protocol === protocol && p.scenario === scenario && p.status === 'ok').map((p) => p.concurrency)));
    return [...(sets[0] ?? [])].filter((n) => sets.every((s) => s.has(n))).sort((a, b) => a - b);
  }

  protocolFor(models: string[], scenario: Scenario = 'steady'): Protocol | null {
    for (const p of ['echo', 'http'] as const) if (this.common(models, p, scenario).length > 0) return p;
    return null;
  }

  limitReason(model: string, scenario: Scenario): string | null {
    return this.points.find((p) => p.model === model && p.scenario === scenario && p.status === 'limit')?.cells.find((c) => c.reason)?.reason ?? null;
  }
}

/** a is clearly above b: their intervals (when there are repetitions) do not overlap. */
function clearlyAbove(a: Summary, b: Summary): boolean {
  return a.ci && b.ci ? a.ci.lo > b.ci.hi : a.median > b.median;
}

function overlap(a: Summary, b: Summary): boolean {
  return a.ci !== null && b.ci !== null && a.ci.lo <= b.ci.hi && b.ci.lo <= a.ci.hi;
}

const notMeasured = (id: string, question: string, why: string): Finding => ({ id, question, verdict: 'not measured', sentence: `Not measured in this run: ${why}.` });

function selectScales(d: Data): Finding {
  const id = 'selectors-scale';
  const question = 'Does select (and poll) slow down as watched connections grow, while epoll does not?';
  const proto = d.protocolFor(['poll', 'epoll'], 'idle');
  if (!proto) return notMeasured(id, question, 'needs poll and epoll in the idle scenario (--models select,poll,epoll --scenarios steady,idle)');
  const n = d.common(['poll', 'epoll'], proto, 'idle').at(-1)!;
  const rise = (m: string): Summary | null => {
    const idle = d.point(m, proto, 'idle', n);
    const steady = d.point(m, proto, 'steady', n);
    const base = steady ? summarize(steady, cpuUsPerOp) : null;
    return idle && base ? summarize(idle, (c) => (cpuUsPerOp(c) ?? NaN) / base.median) : null;
  };
  const poll = rise('poll');
  const epoll = rise('epoll');
  if (!poll || !epoll) return notMeasured(id, question, `needs poll and epoll in the steady scenario too, at ${n} connections`);
  const idle = d.results.settings.idleConnections;
  const selectLimit = d.limitReason('select', 'idle');
  const pct = (s: Summary): string => `${s.median >= 1 ? '+' : ''}${fmt((s.median - 1) * 100)}%`;
  const sentence = `Beside ${fmt(idle)} idle connections, server CPU per operation at ${n} active ${proto} connections changed by ${pct(poll)} for poll and ${pct(epoll)} for epoll` +
    (selectLimit ? `; select could not hold them (${selectLimit})` : '') + '.';
  const verdict: FindingVerdict = overlap(poll, epoll) ? 'no clear difference' : poll.median - epoll.median > 0.15 && clearlyAbove(poll, epoll) ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, chart: CHART_FILES.metric(proto, 'idle', 'cpu-per-1k-ops') };
}

function busyPoll(d: Data): Finding {
  const id = 'busy-poll-cpu';
  const question = 'Does busy-polling waste CPU compared with waiting in a selector?';
  const proto = d.protocolFor(['busy-poll', 'epoll']);
  if (!proto) return notMeasured(id, question, 'needs busy-poll and epoll (--models busy-poll,epoll)');
  const n = d.common(['busy-poll', 'epoll'], proto, 'steady')[0]!;
  const cpu = (m: string): Summary => summarize(d.point(m, proto, 'steady', n)!, (c) => c.server.cpuPercent)!;
  const tput = (m: string): Summary => summarize(d.point(m, proto, 'steady', n)!, (c) => c.opsPerSec)!;
  const [bc, ec, bt, et] = [cpu('busy-poll'), cpu('epoll'), tput('busy-poll'), tput('epoll')];
  const perOp = (m: string): string => fmt(summarize(d.point(m, proto, 'steady', n)!, cpuUsPerOp)?.median ?? NaN, 1);
  const sentence = `At ${n} ${proto} connection${n === 1 ? '' : 's'}, busy-poll used ${fmt(bc.median)}% of a core for ${ops(bt)} (${perOp('busy-poll')} µs of CPU per operation); epoll used ${fmt(ec.median)}% for ${ops(et)} (${perOp('epoll')} µs).`;
  // Waste: clearly more CPU without clearly more work done for it.
  const verdict: FindingVerdict = overlap(bc, ec) ? 'no clear difference'
    : clearlyAbove(bc, ec) && bc.median / ec.median > 1.2 && !(bt.median / et.median > bc.median / ec.median) ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, chart: CHART_FILES.metric(proto, 'steady', 'cpu-per-1k-ops') };
}

function fewConnections(d: Data): Finding {
  const id = 'few-connections';
  const question = 'At a few connections, are selectors and event loops no faster than a thread per connection with blocking I/O?';
  const loops = ['epoll', 'async'].filter((m) => d.protocolFor([m, 'thread-per-connection']));
  const proto = d.protocolFor(['thread-per-connection', ...loops]);
  if (!proto || loops.length === 0) return notMeasured(id, question, 'needs thread-per-connection beside epoll or async');
  const n = d.common(['thread-per-connection', ...loops], proto, 'steady')[0]!;
  if (n > 4) return notMeasured(id, question, 'needs a cell at 4 connections or fewer (--concurrency 1,...)');
  const s = (m: string): Summary => summarize(d.point(m, proto, 'steady', n)!, (c) => c.opsPerSec)!;
  const t = s('thread-per-connection');
  const best = loops.map((m) => ({ m, s: s(m) })).sort((a, b) => b.s.median - a.s.median)[0]!;
  const sentence = `At ${n} ${proto} connection${n === 1 ? '' : 's'}, thread-per-connection served ${ops(t)}${ci(t)} against ${best.m}'s ${ops(best.s)}${ci(best.s)} (${fmt(t.median / best.s.median, 2)}×).`;
  const verdict: FindingVerdict = overlap(t, best.s) ? 'no clear difference' : t.median >= 0.9 * best.s.median ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, chart: CHART_FILES.metric(proto, 'steady', 'throughput') };
}

/** PSS added per connection between the smallest and largest concurrency where the model was ok, bytes. */
function pssPerConnection(d: Data, model: string, proto: Protocol): { perConn: number; lo: number; hi: number } | null {
  const ns = d.common([model], proto, 'steady').filter((n) => {
    const p = d.point(model, proto, 'steady', n)!;
    return summarize(p, (c) => c.server.pssPeakBytes ?? NaN) !== null;
  });
  if (ns.length < 2) return null;
  const [lo, hi] = [ns[0]!, ns.at(-1)!];
  const pss = (n: number): number => summarize(d.point(model, proto, 'steady', n)!, (c) => c.server.pssPeakBytes ?? NaN)!.median;
  return { perConn: (pss(hi) - pss(lo)) / (hi - lo), lo, hi };
}

function memoryPerConnection(d: Data): Finding {
  const id = 'memory-per-connection';
  const question = 'Does an event loop need far less memory per connection than threads or processes?';
  const proto = d.protocolFor(['async']) ?? d.protocolFor(['epoll']);
  if (!proto) return notMeasured(id, question, 'needs async or epoll');
  const loop = ['epoll', 'async'].map((m) => ({ m, r: pssPerConnection(d, m, proto) })).find((x) => x.r !== null);
  const workers = ['thread-per-connection', 'process-per-connection', 'native-threads', 'native-fork'].map((m) => ({ m, r: pssPerConnection(d, m, proto) })).filter((x) => x.r !== null);
  if (!loop || workers.length === 0) return notMeasured(id, question, 'needs PSS at two or more concurrencies for an event loop and for thread- or process-per-connection');
  const kib = (b: number): string => `${fmt(Math.max(0, b) / 1024)} KiB`;
  const parts = workers.map((w) => `${w.m} ${kib(w.r!.perConn)} (${w.r!.lo} to ${w.r!.hi})`).join(', ');
  const sentence = `Memory (PSS) added per ${proto} connection, from the fewest to the most connections each served: ${loop.m} ${kib(loop.r!.perConn)} (${loop.r!.lo} to ${loop.r!.hi}); ${parts}.`;
  const ratio = Math.min(...workers.map((w) => w.r!.perConn)) / Math.max(loop.r!.perConn, 1024);
  const verdict: FindingVerdict = ratio >= 5 ? 'holds' : ratio <= 1.5 ? 'does not hold' : 'no clear difference';
  return { id, question, verdict, sentence, chart: CHART_FILES.metric(proto, 'steady', 'pss') };
}

/**
 * A fixed pool of --workers threads or processes has at most --workers requests in their work at
 * once, so in io-wait at more connections than workers it serves workers / delay, however many
 * connections wait. Only cells that ran count: a cell recorded without running, and any computed
 * ideal, are never evidence. prefork's cells there are `limit` (the connections beyond its
 * children wait in the accept backlog) with their measured figures, and count as measured.
 */
function poolCaps(d: Data): Finding {
  const id = 'pool-caps';
  const question = 'Does a bounded thread or process pool cap concurrency?';
  const workers = d.results.settings.workers;
  const delay = d.results.settings.backendDelayMs ?? 0;
  const variant = ioVariant(d, 'pooled');
  const ran = (c: Point['cells'][number]): boolean => c.durationS > 0 && c.ops > 0 && c.status !== 'failed';
  /** The point with its run repetitions as the ones summarized (a backlog limit included). */
  const measured = (p: Point): Point => ({ ...p, ok: p.cells.filter(ran) });
  const beyond = POOLS.flatMap((m) => {
    const at = d.of('io-wait', variant).filter((p) => p.model === m && p.concurrency > workers && p.cells.some(ran));
    return at.sort((a, b) => b.concurrency - a.concurrency).slice(0, 1).map(measured);
  });
  if (beyond.length === 0 || delay <= 0) {
    return notMeasured(id, question, `needs thread-pool or prefork run in io-wait, pooled, at more connections than their ${workers} workers (--models thread-pool,prefork --scenarios io-wait --concurrency 4,64)`);
  }
  const cap = workers / (delay / 1000);
  const judged = beyond.map((p) => {
    const got = summarize(p, (c) => c.opsPerSec)!;
    const hi = got.ci?.hi ?? got.median;
    const lo = got.ci?.lo ?? got.median;
    // Far below its cap, something else set the pace, and the cap is not what was seen.
    const verdict: FindingVerdict = lo >= 1.5 * cap ? 'does not hold' : hi <= 1.1 * cap && lo >= 0.5 * cap ? 'holds' : 'no clear difference';
    return { p, got, verdict, sentence: poolCapPart(d, p, got, cap, workers) };
  });
  const verdicts = judged.map((j) => j.verdict);
  const verdict: FindingVerdict = verdicts.includes('does not hold') ? 'does not hold' : verdicts.every((v) => v === 'holds') ? 'holds' : 'no clear difference';
  const where = variant.startsWith('postgres') ? 'PostgreSQL' : 'the service stand-in';
  const sentence = `With every query held ${delay} ms on ${where}, workers / delay = ${fmt(cap)} ops/s for ${workers} workers: ${judged.map((j) => j.sentence).join('; ')}.`;
  return { id, question, verdict, sentence, chart: CHART_FILES.ioWaitVsIdeal(beyond[0]!.protocol) };
}

/** One pool's part of pool-caps: what it served beyond its workers, and where the rest waited. */
function poolCapPart(d: Data, p: Point, got: Summary, cap: number, workers: number): string {
  // Hundreds a second: the shared interval format, in thousands, would print [0.3–0.3k].
  const interval = got.ci ? ` [${fmt(got.ci.lo)}–${fmt(got.ci.hi)}]` : '';
  const served = `${p.model} served ${ops(got)}${interval} at ${p.concurrency} ${p.protocol} connections (${fmt((got.median / cap) * 100)}%)`;
  const within = d.point(p.model, p.protocol, 'io-wait', workers, p.variant);
  const atWorkers = within?.status === 'ok' ? `, ${ops(summarize(within, (c) => c.opsPerSec)!)} at ${workers}` : '';
  if (p.cells.every((c) => c.status === 'ok')) {
    const p50 = summarize(p, (c) => c.latencyUs.p50)!;
    const queued = (p.concurrency / got.median) * 1e6; // Little's law: connections / throughput
    return `${served}${atWorkers}, with a p50 latency of ${duration(p50.median)} where ${p.concurrency} connections queueing for ${workers} workers make ${duration(queued)}`;
  }
  const outstanding = summarize(p, (c) => c.outstanding)!;
  const p99 = summarize(p, (c) => c.latencyUs.p99)!;
  return `${served}${atWorkers} on the connections it had answered; ${fmt(outstanding.median)} requests were still unanswered when the window closed, and its p99 latency was ${duration(p99.median)} (${p.status}: ${p.cells.find((c) => c.reason)?.reason ?? 'no reason recorded'})`;
}

function processesUseCores(d: Data): Finding {
  const id = 'processes-cores';
  const question = 'Do processes use cores that one event loop cannot?';
  const fromCpu = cpuSpread(d);
  if (fromCpu) return { id, question, ...fromCpu };
  const serverCpus = d.results.env.pinning?.server?.length ?? 0;
  if (serverCpus < 2) return notMeasured(id, question, `the server had ${serverCpus || 'unpinned'} CPU${serverCpus === 1 ? '' : 's'}; needs --server-cpus 2 or more`);
  const proto = d.protocolFor(['cluster', 'async']);
  if (!proto) return notMeasured(id, question, 'needs cluster and async');
  const n = d.common(['cluster', 'async'], proto, 'steady').at(-1)!;
  const s = (m: string): Summary => summarize(d.point(m, proto, 'steady', n)!, (c) => c.opsPerSec)!;
  const [cl, as] = [s('cluster'), s('async')];
  const sentence = `On ${serverCpus} server CPUs at ${n} ${proto} connections, cluster served ${ops(cl)}${ci(cl)} against async's ${ops(as)}${ci(as)} (${fmt(cl.median / as.median, 2)}×).`;
  const verdict: FindingVerdict = overlap(cl, as) ? 'no clear difference' : cl.median / as.median >= 1.3 ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, chart: CHART_FILES.metric(proto, 'steady', 'throughput') };
}

/** The cpu scenario's answer to processes-cores: cluster (or prefork) against async when the server had two or more CPUs. */
function cpuSpread(d: Data): Pick<Finding, 'verdict' | 'sentence' | 'chart'> | null {
  for (const multi of ['cluster', 'prefork', 'process-per-connection']) {
    for (const proto of ['http', 'echo'] as const) {
      const n = d.common([multi, 'async'], proto, 'cpu').at(-1);
      if (n === undefined) continue;
      const a = d.point('async', proto, 'cpu', n)!;
      const cpus = a.ok[0]?.cpus?.server?.length ?? 0;
      if (cpus < 2) continue;
      const [m, l] = [summarize(d.point(multi, proto, 'cpu', n)!, (c) => c.opsPerSec)!, summarize(a, (c) => c.opsPerSec)!];
      const work = d.results.settings.work?.us ?? 0;
      return {
        verdict: overlap(m, l) ? 'no clear difference' : m.median / l.median >= 1.3 ? 'holds' : 'does not hold',
        sentence: `With ${work} µs of CPU per request on ${cpus} server CPUs at ${n} ${proto} connections, ${multi} served ${ops(m)}${ci(m)} against async's ${ops(l)}${ci(l)} (${fmt(m.median / l.median, 2)}×).`,
        chart: CHART_FILES.cpuByModel(proto, 'throughput'),
      };
    }
  }
  return null;
}

const LOOPS = ['async', 'epoll', 'generators', 'node-http', 'poll', 'select'];
const POOLS = ['thread-pool', 'prefork'];

/** The io-wait variant a finding reads: PostgreSQL when the run has it, else the service. */
function ioVariant(d: Data, mode: 'pooled' | 'per-request'): string {
  return d.of('io-wait', `postgres ${mode}`).length > 0 ? `postgres ${mode}` : `service ${mode}`;
}

function ioWait(d: Data): Finding {
  const id = 'io-wait';
  const question = 'Does an event loop win when requests wait on I/O (a database)?';
  const pts = d.of('io-wait', ioVariant(d, 'pooled'));
  const delay = d.results.settings.backendDelayMs ?? 0;
  const loop = LOOPS.flatMap((m) => pts.filter((p) => p.model === m && p.status === 'ok')).sort((a, b) => b.concurrency - a.concurrency)[0];
  const pool = POOLS.flatMap((m) => pts.filter((p) => p.model === m)).sort((a, b) => b.concurrency - a.concurrency);
  if (!loop || pool.length === 0) return notMeasured(id, question, 'needs an event loop (async or epoll) and a pool (thread-pool or prefork) in io-wait with pooled backend connections (--scenarios io-wait)');
  const got = summarize(loop, (c) => c.opsPerSec)!;
  const ideal = loop.cells.find((c) => c.ideal)?.ideal?.opsPerSec ?? NaN;
  const poolAt = pool.find((p) => p.concurrency === loop.concurrency) ?? pool[0]!;
  const poolIdeal = poolAt.cells.find((c) => c.ideal)?.ideal?.opsPerSec ?? NaN;
  const poolGot = summarize(poolAt, (c) => c.opsPerSec);
  const workers = d.results.settings.workers;
  const poolPart = poolGot
    ? `${poolAt.model} with ${workers} workers served ${ops(poolGot)} at ${poolAt.concurrency} (its ideal ${fmt(poolIdeal)})`
    : `${poolAt.model} with ${workers} workers cannot hold ${poolAt.concurrency} waits at once (${poolAt.status}): at most ${workers} per ${delay} ms, ${fmt(poolIdeal)} ops/s`;
  const sentence = `With every request waiting ${delay} ms on the backend, ${loop.model} served ${ops(got)} at ${loop.concurrency} connections, ${fmt((got.median / ideal) * 100)}% of the ${fmt(ideal)} ops/s ideal; ${poolPart}.`;
  const poolCap = poolGot ? poolGot.median : poolIdeal;
  const verdict: FindingVerdict = got.median >= 0.7 * ideal && got.median > 1.5 * poolCap ? 'holds' : got.median <= 1.1 * poolCap ? 'does not hold' : 'no clear difference';
  return { id, question, verdict, sentence, chart: CHART_FILES.ioWaitVsIdeal(loop.protocol) };
}

function backendPerRequest(d: Data): Finding {
  const id = 'backend-per-request';
  const question = 'Does a new connection per backend query cost much more than reusing one?';
  for (const m of ['epoll', 'async', ...LOOPS, 'thread-pool', 'prefork', 'thread-per-connection']) {
    for (const p of d.of('io-wait', ioVariant(d, 'per-request')).filter((x) => x.model === m && x.status === 'ok')) {
      const pooled = d.point(m, p.protocol, 'io-wait', p.concurrency, p.variant.replace('per-request', 'pooled'));
      if (!pooled || pooled.status !== 'ok') continue;
      const cpu = (q: Point): Summary => summarize(q, (c) => cpuUsPerOp(c) ?? NaN)!;
      const tput = (q: Point): Summary => summarize(q, (c) => c.opsPerSec)!;
      const [cp, cr, tp, tr] = [cpu(pooled), cpu(p), tput(pooled), tput(p)];
      const onDb = p.variant.startsWith('postgres');
      const backend = (q: Point): string => fmt(summarize(q, (c) => (onDb ? c.database?.cpuPercent : c.service?.cpuPercent) ?? NaN)?.median ?? NaN);
      const sessions = (q: Point): string => {
        const c = q.ok[0]?.database;
        return c ? `${fmt(c.sessionsOpened)} sessions for ${fmt(c.queries)} queries` : '';
      };
      const what = onDb ? 'the database' : 'the backend service';
      const counted = onDb ? ` (${sessions(pooled)} pooled, ${sessions(p)} per request)` : '';
      const sentence = `${m} at ${p.concurrency} ${p.protocol} connections on ${onDb ? 'PostgreSQL' : 'the service stand-in'}: reusing connections served ${ops(tp)} at ${fmt(cp.median, 1)} µs of server CPU per request; a new connection per query served ${ops(tr)} (${fmt(tr.median / tp.median, 2)}×) at ${fmt(cr.median, 1)} µs (${fmt(cr.median / cp.median, 2)}×), and ${what}'s CPU went from ${backend(pooled)}% to ${backend(p)}% of a core${counted}.`;
      const verdict: FindingVerdict = overlap(cp, cr) ? 'no clear difference' : cr.median / cp.median >= 1.5 || tr.median / tp.median <= 0.8 ? 'holds' : 'does not hold';
      return { id, question, verdict, sentence, chart: CHART_FILES.ioWaitVsIdeal(p.protocol) };
    }
  }
  return notMeasured(id, question, 'needs one model in io-wait with both --backend-connections pooled and per-request at the same concurrency');
}

/**
 * The pool people size by rule of thumb (a few connections per core, HikariCP's "cores × 2 +
 * spindles"): does a pool much smaller than the connections serve as well as one as large? It
 * depends on what the database does while a query waits: a sleep holds a connection without work,
 * so a small pool caps throughput at pool / delay; queries that use the database's CPU stop gaining
 * once the pool covers its cores.
 */
function poolSize(d: Data): Finding {
  const id = 'pool-size';
  const question = 'Does a database pool much smaller than the connections serve as well as a pool as large?';
  const delay = d.results.settings.backendDelayMs ?? 0;
  for (const m of ['epoll', 'async', ...LOOPS]) {
    const pts = d.of('io-wait').filter((p) => p.model === m && p.status === 'ok' && p.cells[0]?.backendConnections === 'pooled' && p.cells[0]?.dbPool !== undefined);
    for (const full of pts.filter((p) => p.cells[0]!.dbPool === p.concurrency).sort((a, b) => b.concurrency - a.concurrency)) {
      const backend = full.cells[0]!.backend ?? 'service';
      const smaller = pts.filter((p) => p.concurrency === full.concurrency && (p.cells[0]!.backend ?? 'service') === backend && p.cells[0]!.dbPool! < full.concurrency)
        .sort((a, b) => a.cells[0]!.dbPool! - b.cells[0]!.dbPool!);
      if (smaller.length === 0) continue;
      const tput = (q: Point): Summary => summarize(q, (c) => c.opsPerSec)!;
      const f = tput(full);
      const rows = smaller.map((q) => ({ pool: q.cells[0]!.dbPool!, t: tput(q), ideal: q.cells.find((c) => c.ideal)?.ideal?.opsPerSec ?? NaN }));
      const least = rows[0]!;
      const enough = rows.find((r) => r.t.median >= 0.9 * f.median);
      const parts = rows.map((r) => `a pool of ${r.pool} served ${ops(r.t)}${ci(r.t)}${Number.isFinite(r.ideal) ? ` (ideal ${fmt(r.ideal)})` : ''}`).join(', ');
      const sentence = `${m} at ${full.concurrency} ${full.protocol} connections on ${backend === 'postgres' ? 'PostgreSQL' : 'the service stand-in'}, every query held ${delay} ms: ${parts}; a pool of ${full.concurrency} served ${ops(f)}${ci(f)}` +
        (enough ? `; the smallest pool within 10% of it was ${enough.pool}.` : '; no smaller pool came within 10% of it.');
      const verdict: FindingVerdict = overlap(least.t, f) ? 'no clear difference' : least.t.median >= 0.9 * f.median ? 'holds' : 'does not hold';
      return { id, question, verdict, sentence, chart: CHART_FILES.ioWaitPool(full.protocol, 'throughput') };
    }
  }
  return notMeasured(id, question, 'needs an event loop in io-wait, pooled, with a pool as large as the connections and a smaller one (--db-pool 4,64 --concurrency 64)');
}

function cpuStall(d: Data): Finding {
  const id = 'cpu-stall';
  const question = 'Does one CPU-heavy request stall every other connection on an event loop, and does a pool fix it?';
  const work = d.results.settings.work?.us ?? 0;
  for (const loopModel of ['async', 'epoll', 'node-http']) {
    for (const fix of ['thread-offload', 'thread-pool', 'cluster']) {
      const proto = (['http', 'echo'] as const).find((p) => d.common([loopModel, fix], p, 'cpu').length > 0);
      if (!proto) continue;
      const n = d.common([loopModel, fix], proto, 'cpu').at(-1)!;
      const [lp, fp] = [d.point(loopModel, proto, 'cpu', n)!, d.point(fix, proto, 'cpu', n)!];
      const p50 = (q: Point): Summary => summarize(q, (c) => c.latencyUs.p50)!;
      const tput = (q: Point): Summary => summarize(q, (c) => c.opsPerSec)!;
      const [ll, fl, lt, ft] = [p50(lp), p50(fp), tput(lp), tput(fp)];
      const cpus = lp.ok[0]?.cpus?.server?.length ?? 1;
      const stalled = n > 1 && ll.median >= 0.75 * n * work; // each request waited for the others' work
      const sentence = `With ${work} µs of CPU per request at ${n} ${proto} connections on ${cpus} server CPU${cpus === 1 ? '' : 's'}, ${loopModel} served ${ops(lt)} with a p50 of ${fmt(ll.median)} µs (each request also waits for the others' work); ${fix} served ${ops(ft)} (${fmt(ft.median / lt.median, 2)}×) with a p50 of ${fmt(fl.median)} µs.`;
      const verdict: FindingVerdict = !stalled ? 'does not hold' : overlap(lt, ft) ? 'no clear difference' : ft.median >= 1.2 * lt.median && fl.median < ll.median ? 'holds' : 'does not hold';
      return { id, question, verdict, sentence, chart: CHART_FILES.cpuByModel(proto, 'p99') };
    }
  }
  return notMeasured(id, question, 'needs async or epoll beside thread-offload, thread-pool or cluster in the cpu scenario (--scenarios cpu)');
}

function churnCost(d: Data): Finding {
  const id = 'churn';
  const question = 'Is a new connection per request expensive, most of all for a process or thread per connection?';
  const pts = d.of('churn');
  const loop = ['epoll', 'async', 'native-epoll'].flatMap((m) => pts.filter((p) => p.model === m && p.status === 'ok'))[0];
  const workers = ['process-per-connection', 'thread-per-connection'].flatMap((m) => pts.filter((p) => p.model === m && p.status === 'ok' && p.protocol === loop?.protocol && p.concurrency === loop.concurrency));
  if (!loop || workers.length === 0) return notMeasured(id, question, 'needs epoll or async beside thread- or process-per-connection in the churn scenario (--scenarios churn)');
  const conn = (q: Point): Summary => summarize(q, (c) => c.connectUs?.p50 ?? NaN)!;
  const tput = (q: Point): Summary => summarize(q, (c) => c.opsPerSec)!;
  const steady = d.point(loop.model, loop.protocol, 'steady', loop.concurrency) ?? d.of('steady').filter((p) => p.model === loop.model && p.protocol === loop.protocol && p.status === 'ok').sort((a, b) => Math.abs(a.concurrency - loop.concurrency) - Math.abs(b.concurrency - loop.concurrency))[0];
  const st = steady && steady.status === 'ok' ? summarize(steady, (c) => c.opsPerSec) : null;
  const parts = workers.map((w) => `${w.model} ${ops(tput(w))}, connect to first byte ${duration(conn(w).median)}`).join('; ');
  const keep = st ? ` (with connections kept, ${loop.model} served ${ops(st)} at ${steady!.concurrency})` : '';
  const sentence = `With a new ${loop.protocol} connection per request at ${loop.concurrency} connections, ${loop.model} served ${ops(tput(loop))}${keep}, connect to first byte ${duration(conn(loop).median)}; ${parts}.`;
  const worst = Math.max(...workers.map((w) => conn(w).median));
  const verdict: FindingVerdict = worst >= 5 * conn(loop).median ? 'holds' : worst <= 1.5 * conn(loop).median ? 'does not hold' : 'no clear difference';
  return { id, question, verdict, sentence, chart: CHART_FILES.churnByModel(loop.protocol, 'connect') };
}

// ---- The claims the write-ups make about Python (the examples of examples/models.json) ----

const PY_SUITE = '--suite python --models-file examples/models.json';

/**
 * What a Python claim lacks when its models could not run here: "install python3-x" for the Debian
 * packages named in their limit cells (a missing module is such a limit), or null.
 */
function missingPython(d: Data, models: string[], scenario: Scenario): string | null {
  const packages = new Set<string>();
  const blocked = new Set<string>();
  for (const c of d.results.cells) {
    const m = models.includes(c.model) && c.scenario === scenario && c.status === 'limit' ? /\(Debian package: ([^)]+)\)$/.exec(c.reason ?? '') : null;
    if (m) {
      packages.add(m[1]!);
      blocked.add(c.model);
    }
  }
  if (packages.size === 0) return null;
  const list = [...packages].sort();
  return `install ${list.join(' and ')} (apt-get install ${list.join(' ')}): ${[...blocked].sort().join(', ')} could not run ${scenario}`;
}

const threadsOf = (p: Point): number => summarize(p, (c) => c.server.threadsPeak)?.median ?? NaN;

/** The GIL: Python threads burn CPU one at a time, so a thread per connection or a pool stays near one core; processes do not. */
function pythonGil(d: Data): Finding {
  const id = 'python-gil';
  const question = 'Does the GIL keep Python threads to one core for CPU work, while processes use them all?';
  const threads = ['py-threading', 'py-threadpool'];
  const proc = 'py-multiprocessing';
  const proto = (['http', 'echo'] as const).find((p) => threads.some((t) => d.common([t, proc], p, 'cpu').length > 0));
  if (!proto) return notMeasured(id, question, missingPython(d, [...threads, proc], 'cpu') ?? `needs py-threading or py-threadpool beside py-multiprocessing in the cpu scenario (${PY_SUITE})`);
  const n = Math.max(...threads.flatMap((t) => d.common([t, proc], proto, 'cpu')));
  const mp = d.point(proc, proto, 'cpu', n)!;
  const cpus = mp.ok[0]?.cpus?.server?.length ?? 0;
  if (cpus < 2) return notMeasured(id, question, `the server had ${cpus || 'unpinned'} CPU${cpus === 1 ? '' : 's'} in the cpu cells; needs two or more (the cpu scenario gives the server every CPU with --pin auto)`);
  const tput = (q: Point): Summary => summarize(q, (c) => c.opsPerSec)!;
  const core = (q: Point): number => summarize(q, (c) => c.server.cpuPercent)?.median ?? NaN;
  const measured = threads.map((t) => d.point(t, proto, 'cpu', n)).filter((q): q is Point => q !== undefined && q.status === 'ok');
  const best = measured.map((q) => ({ q, s: tput(q) })).sort((a, b) => b.s.median - a.s.median)[0]!;
  const m = tput(mp);
  const work = d.results.settings.work?.us ?? 0;
  const parts = measured.map((q) => `${q.model} served ${ops(tput(q))} using ${fmt(core(q))}% of a core`).join(', ');
  const sentence = `With ${work} µs of CPU per request on ${cpus} server CPUs at ${n} ${proto} connections, ${parts}; ${proc} served ${ops(m)} using ${fmt(core(mp))}% (${fmt(m.median / best.s.median, 2)}× ${best.q.model}).`;
  const oneCore = measured.every((q) => core(q) <= 130);
  const verdict: FindingVerdict = overlap(m, best.s) ? 'no clear difference' : oneCore && m.median >= 1.3 * best.s.median ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, chart: CHART_FILES.cpuByModel(proto, 'throughput') };
}

/** A thread pool runs at most --workers blocking queries at once: the rest of the requests queue. */
function pythonPoolCap(d: Data): Finding {
  const id = 'python-threadpool-cap';
  const question = 'Does a Python thread pool cap how many database waits are in flight, queueing the rest?';
  const workers = d.results.settings.workers;
  const delay = d.results.settings.backendDelayMs ?? 0;
  const variant = ioVariant(d, 'pooled');
  const at = d.of('io-wait', variant).filter((p) => p.model === 'py-threadpool' && p.status === 'ok' && p.concurrency > workers).sort((a, b) => b.concurrency - a.concurrency)[0];
  if (!at || delay <= 0) return notMeasured(id, question, missingPython(d, ['py-threadpool'], 'io-wait') ?? `needs py-threadpool in io-wait, pooled, at more connections than its ${workers} workers (${PY_SUITE})`);
  const cap = workers / (delay / 1000);
  const got = summarize(at, (c) => c.opsPerSec)!;
  const p50 = summarize(at, (c) => c.latencyUs.p50)!;
  const queued = (at.concurrency / got.median) * 1e6; // Little's law: connections / throughput
  const other = ['py-threading', 'py-gevent', 'py-asyncio', 'py-selectors'].map((m) => d.point(m, at.protocol, 'io-wait', at.concurrency, variant)).find((q) => q?.status === 'ok');
  const beside = other ? `; ${other.model}, which holds a wait per connection, served ${ops(summarize(other, (c) => c.opsPerSec)!)}` : '';
  const sentence = `With every query held ${delay} ms, py-threadpool with ${workers} workers served ${ops(got)} at ${at.concurrency} ${at.protocol} connections, ${fmt((got.median / cap) * 100)}% of workers / delay = ${fmt(cap)} ops/s; its p50 latency was ${duration(p50.median)}, where ${at.concurrency} connections queueing for ${workers} workers make ${duration(queued)}${beside}.`;
  const verdict: FindingVerdict = got.median <= 1.1 * cap ? 'holds' : got.median >= 1.5 * cap ? 'does not hold' : 'no clear difference';
  return { id, question, verdict, sentence, chart: CHART_FILES.ioWaitVsIdeal(at.protocol) };
}

/** gevent's green threads and asyncio's coroutines hold every connection's wait on one OS thread. */
function pythonManyWaits(d: Data): Finding {
  const id = 'python-many-waits';
  const question = 'Do gevent and asyncio hold many database waits on one thread, as well as a thread per connection?';
  // A few threads beside the loop's are the libraries' own resolvers (gevent's, libuv's thread pool): none holds a wait.
  const few = 16;
  const greens = ['py-gevent', 'py-asyncio'];
  const pooled = d.of('io-wait').filter((p) => /^(postgres|service) pooled$/.test(p.variant));
  const candidates = pooled.filter((p) => p.model === 'py-threading' && greens.some((g) => d.point(g, p.protocol, 'io-wait', p.concurrency, p.variant)?.status === 'ok'));
  const t = candidates.sort((a, b) => b.concurrency - a.concurrency)[0];
  if (!t) return notMeasured(id, question, missingPython(d, [...greens, 'py-threading'], 'io-wait') ?? `needs py-gevent or py-asyncio beside py-threading in io-wait, pooled (${PY_SUITE})`);
  const at = greens.map((g) => d.point(g, t.protocol, 'io-wait', t.concurrency, t.variant)).filter((q): q is Point => q?.status === 'ok');
  const tput = (q: Point): Summary => summarize(q, (c) => c.opsPerSec)!;
  const ideal = t.cells.find((c) => c.ideal)?.ideal?.opsPerSec ?? NaN;
  const threadsWord = (q: Point): string => `${fmt(threadsOf(q))} thread${threadsOf(q) === 1 ? '' : 's'}`;
  const parts = at.map((q) => `${q.model} served ${ops(tput(q))} on ${threadsWord(q)}`).join(', ');
  const threading = t.status === 'ok' ? `py-threading served ${ops(tput(t))} on ${threadsWord(t)}` : `py-threading could not (${t.status}: ${t.cells.find((c) => c.reason)?.reason ?? ''})`;
  const where = t.variant.startsWith('postgres') ? 'PostgreSQL' : 'the service stand-in';
  const sentence = `In io-wait on ${where} at ${t.concurrency} ${t.protocol} connections, every query held ${d.results.settings.backendDelayMs ?? 0} ms (ideal ${fmt(ideal)} ops/s): ${parts}; ${threading}.`;
  const oneThread = at.every((q) => threadsOf(q) <= few);
  const least = at.map((q) => ({ q, s: tput(q) })).sort((a, b) => a.s.median - b.s.median)[0]!;
  let verdict: FindingVerdict;
  if (t.status !== 'ok') verdict = oneThread && least.s.median >= 0.5 * ideal ? 'holds' : 'does not hold';
  else {
    const th = tput(t);
    verdict = overlap(least.s, th) ? 'no clear difference' : oneThread && least.s.median >= 0.9 * th.median ? 'holds' : least.s.median < 0.67 * th.median || !oneThread ? 'does not hold' : 'no clear difference';
  }
  return { id, question, verdict, sentence, chart: CHART_FILES.ioWaitVsIdeal(t.protocol) };
}

/** psycopg2's asynchronous mode, its descriptor waited on in a selector, against asyncpg on asyncio. */
function pythonAsyncDriver(d: Data): Finding {
  const id = 'python-psycopg2-async';
  const question = "Does psycopg2's asynchronous mode in a selector wait as well as an async driver (asyncpg)?";
  const models = ['py-selectors', 'py-asyncio'];
  const variant = 'postgres pooled';
  const both = d.of('io-wait', variant).filter((p) => p.model === 'py-selectors' && p.status === 'ok' && d.point('py-asyncio', p.protocol, 'io-wait', p.concurrency, variant)?.status === 'ok');
  const s = both.sort((a, b) => b.concurrency - a.concurrency)[0];
  if (!s) return notMeasured(id, question, missingPython(d, models, 'io-wait') ?? `needs py-selectors and py-asyncio in io-wait on PostgreSQL, pooled (${PY_SUITE})`);
  const a = d.point('py-asyncio', s.protocol, 'io-wait', s.concurrency, variant)!;
  const [st, at] = [summarize(s, (c) => c.opsPerSec)!, summarize(a, (c) => c.opsPerSec)!];
  const perOp = (q: Point): string => fmt(summarize(q, (c) => cpuUsPerOp(c) ?? NaN)?.median ?? NaN);
  const ideal = s.cells.find((c) => c.ideal)?.ideal?.opsPerSec ?? NaN;
  const sentence = `On PostgreSQL at ${s.concurrency} ${s.protocol} connections, every query held ${d.results.settings.backendDelayMs ?? 0} ms (ideal ${fmt(ideal)} ops/s): py-selectors with psycopg2 in asynchronous mode served ${ops(st)} at ${perOp(s)} µs of server CPU per request; py-asyncio with asyncpg served ${ops(at)} at ${perOp(a)} µs (${fmt(st.median / at.median, 2)}×).`;
  const verdict: FindingVerdict = overlap(st, at) ? 'no clear difference' : st.median >= 0.9 * at.median ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, chart: CHART_FILES.ioWaitVsIdeal(s.protocol) };
}

/** Each framework beside the bare design it is built on: the same loop, without the framework's layers. */
const FRAMEWORKS: readonly { model: string; base: string }[] = [
  { model: 'py-tornado', base: 'py-asyncio' },
  { model: 'py-aiohttp', base: 'py-asyncio' },
  { model: 'py-twisted', base: 'py-selectors' },
];

/** A framework's cost against its base in one scenario: throughput ratio and server CPU per request of each. */
interface FrameworkPair {
  model: string;
  base: string;
  where: string;
  ratio: number;
  cpu: number;
  baseCpu: number;
  tput: Summary;
  baseTput: Summary;
}

/**
 * A framework's layers (its parser, request objects, router, callbacks) cost little over the
 * design it is built on: py-tornado and py-aiohttp over py-asyncio, py-twisted over py-selectors,
 * each pair at the same connections in steady HTTP and in io-wait on PostgreSQL, pooled.
 */
function pythonFrameworkCost(d: Data): Finding {
  const id = 'python-framework-cost';
  const question = 'Does a Python framework (Tornado, aiohttp, Twisted) cost little over the bare design it is built on?';
  const perOp = (q: Point): number => summarize(q, (c) => cpuUsPerOp(c) ?? NaN)?.median ?? NaN;
  const pairs: FrameworkPair[] = [];
  for (const [scenario, variant, where] of [['steady', '', 'steady'], ['io-wait', 'postgres pooled', 'io-wait on PostgreSQL']] as const) {
    for (const { model, base } of FRAMEWORKS) {
      // The most connections both served, like with like: same scenario, protocol, variant, closed loop.
      const at = d.of(scenario, variant).filter((p) => p.model === model && p.protocol === 'http' && p.status === 'ok' && d.point(base, 'http', scenario, p.concurrency, variant)?.status === 'ok')
        .sort((a, b) => b.concurrency - a.concurrency)[0];
      if (!at) continue;
      const b = d.point(base, 'http', scenario, at.concurrency, variant)!;
      const [tput, baseTput] = [summarize(at, (c) => c.opsPerSec)!, summarize(b, (c) => c.opsPerSec)!];
      pairs.push({ model, base, where: `${where} at ${at.concurrency}`, ratio: tput.median / baseTput.median, cpu: perOp(at), baseCpu: perOp(b), tput, baseTput });
    }
  }
  if (pairs.length === 0) {
    const models = [...new Set(FRAMEWORKS.flatMap((f) => [f.model, f.base]))];
    return notMeasured(id, question, missingPython(d, models, 'steady') ?? missingPython(d, models, 'io-wait') ??
      `needs py-tornado, py-aiohttp or py-twisted beside py-asyncio or py-selectors in steady or io-wait over HTTP (${PY_SUITE})`);
  }
  const sentence = 'Over HTTP, each framework beside its bare design at the same connections: ' + pairs.map((p) =>
    `in ${p.where}, ${p.model} served ${ops(p.tput)} at ${fmt(p.cpu)} µs of server CPU per request against ${p.base}'s ${ops(p.baseTput)} at ${fmt(p.baseCpu)} µs (${fmt(p.ratio, 2)}×, ${fmt(p.cpu / p.baseCpu, 2)}× the CPU)`).join('; ') + '.';
  // Little: at least 0.8× the base's throughput for at most 1.25× its CPU per request; a lot: under 0.67×, or over 1.5× the CPU.
  const costly = pairs.filter((p) => !overlap(p.tput, p.baseTput) && (p.ratio < 0.67 || p.cpu > 1.5 * p.baseCpu));
  const little = pairs.every((p) => (p.ratio >= 0.8 || overlap(p.tput, p.baseTput)) && p.cpu <= 1.25 * p.baseCpu);
  const verdict: FindingVerdict = costly.length > 0 ? 'does not hold' : little ? 'holds' : 'no clear difference';
  return { id, question, verdict, sentence, chart: 'http-cpu-per-1k-ops.png' };
}

/**
 * A job queue's round trip: py-rq hands each request's CPU work to RQ workers through Redis, where
 * py-multiprocessing does it in the connection's own process; same cpu cell, same connections.
 */
function pythonJobQueue(d: Data): Finding {
  const id = 'python-job-queue';
  const question = "Does a job queue's round trip (RQ on Redis) cost little beside the work it spreads, against a local process?";
  const [rq, local] = ['py-rq', 'py-multiprocessing'];
  const n = d.common([rq, local], 'http', 'cpu').at(-1);
  if (n === undefined) return notMeasured(id, question, missingPython(d, [rq, local], 'cpu') ?? `needs py-rq beside py-multiprocessing in the cpu scenario over HTTP (${PY_SUITE})`);
  const [q, m] = [d.point(rq, 'http', 'cpu', n)!, d.point(local, 'http', 'cpu', n)!];
  const [qt, mt] = [summarize(q, (c) => c.opsPerSec)!, summarize(m, (c) => c.opsPerSec)!];
  const p50 = (p: Point): number => summarize(p, (c) => c.latencyUs.p50)?.median ?? NaN;
  const perOp = (p: Point): number => summarize(p, (c) => cpuUsPerOp(c) ?? NaN)?.median ?? NaN;
  const redisPerOp = summarize(q, (c) => (c.redis?.cpuPercent != null && c.ops > 0 ? (c.redis.cpuPercent / 100) * c.durationS * 1e6 / c.ops : NaN))?.median ?? NaN;
  const added = p50(q) - p50(m);
  const work = d.results.settings.work?.us ?? 0;
  const redis = Number.isFinite(redisPerOp) ? `, and Redis ${fmt(redisPerOp)} µs more` : '';
  const sentence = `With ${work} µs of CPU per request at ${n} http connections, py-rq (each request a job for its workers through Redis) served ${ops(qt)} at a p50 of ${duration(p50(q))} and ${fmt(perOp(q))} µs of server CPU per request${redis}; py-multiprocessing (the work in the connection's process) served ${ops(mt)} at ${duration(p50(m))} and ${fmt(perOp(m))} µs: the round trip added ${duration(Math.max(0, added))} per request (${fmt(qt.median / mt.median, 2)}× the throughput).`;
  const ratio = qt.median / mt.median;
  const verdict: FindingVerdict = overlap(qt, mt) ? 'no clear difference' : ratio >= 0.8 ? 'holds' : ratio < 0.5 ? 'does not hold' : 'no clear difference';
  return { id, question, verdict, sentence, chart: 'http-cpu-throughput-by-model.png' };
}

/** A primitive's mean from micro.json, as "56 ms", or null when it was not measured. */
function primitive(micro: MicroResults | null, name: string): string | null {
  const ns = micro?.tasks.find((t) => t.name === name && t.state === 'completed')?.meanNs;
  if (typeof ns !== 'number') return null;
  return ns >= 1e6 ? `${fmt(ns / 1e6, 1)} ms` : ns >= 1e3 ? `${fmt(ns / 1e3, 1)} µs` : `${fmt(ns)} ns`;
}

/** What the primitives measured by npm run micro say about a finding, as a sentence; empty without micro.json. */
function why(id: string, micro: MicroResults | null): string {
  const p = (name: string): string | null => primitive(micro, name);
  if (id === 'memory-per-connection' && p('worker thread start+exit') && p('node process spawn+exit')) {
    return ` Starting one costs, here: a worker thread ${p('worker thread start+exit')}, a Node process ${p('node process spawn+exit')}, the OS's own fork/exec ${p('process spawn+exit (/bin/true)') ?? 'n/a'} (npm run micro).`;
  }
  if (id === 'selectors-scale' && p('poll, 1000 idle') && p('epoll_wait, 1000 idle')) {
    return ` One call over 1,000 idle descriptors costs poll ${p('poll, 1000 idle')}, select ${p('select, 1000 idle') ?? 'n/a'}, epoll_wait ${p('epoll_wait, 1000 idle')} (npm run micro).`;
  }
  if (id === 'few-connections' && p('koffi getpid')) {
    return ` Each syscall of the selector models also pays a koffi call (${p('koffi getpid')}); a thread blocked in recv() pays no readiness call at all (npm run micro).`;
  }
  return '';
}

/**
 * Every finding, in the order of the questions people ask. With the primitives of `npm run micro`
 * (micro.json), a finding also says what its cost is made of.
 */
export function findings(results: Results, micro: MicroResults | null = null): Finding[] {
  const d = new Data(results);
  const explain = (f: Finding): Finding => (f.verdict === 'not measured' ? f : { ...f, sentence: f.sentence + why(f.id, micro) });
  return [
    fewConnections(d),
    memoryPerConnection(d),
    selectScales(d),
    busyPoll(d),
    poolCaps(d),
    processesUseCores(d),
    ioWait(d),
    backendPerRequest(d),
    poolSize(d),
    cpuStall(d),
    churnCost(d),
    pythonGil(d),
    pythonPoolCap(d),
    pythonManyWaits(d),
    pythonAsyncDriver(d),
    pythonFrameworkCost(d),
    pythonJobQueue(d),
  ].map(explain);
}
