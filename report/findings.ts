// Findings: what a run says about the claims people make of these models, each a small pure rule
// over the results file with its numbers and the chart behind it. A claim whose data is not in the
// file is "not measured", never guessed. A comparison whose margin the noise explains (repetitions'
// intervals that overlap, or a ratio within the run's measured noise: report/noise.ts) is "no
// clear difference", and every finding prints its margin beside that noise.
import type { Cell, MicroResults, Protocol, Results, Scenario } from '../schema/results.js';
import { cpuUsPerOp, groupCells, serverCrowded, summarize as summarizeQuiet, type Point, type Summary } from './aggregate.js';
import { CHART_FILES } from './chart-files.js';
import { judge, runNoise, type Noise } from './noise.js';

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
  /** The margin the verdict rests on, and the noise it had to beat (absent when not measured). */
  margin?: string;
  /** The cells it rests on that the run flagged (client saturated, a full core, drift...), when any. */
  caveat?: string;
}

/** The points the rule being judged has read figures of: the cells its verdict rests on. */
let reading: Set<Point> | null = null;

/** summarize, noting the point as one the current rule rests on. */
function summarize(point: Point, value: Parameters<typeof summarizeQuiet>[1]): Summary | null {
  reading?.add(point);
  return summarizeQuiet(point, value);
}

/** Why the run flagged a cell, in words; empty when it did not. */
export function cellFlags(c: Cell): string[] {
  const flags: string[] = [];
  if (c.client?.saturated) flags.push('client saturated');
  if (serverCrowded(c)) flags.push("server's CPUs filled by others");
  if (c.warmup && !c.warmup.settled) flags.push('warm-up capped before the load settled');
  if (c.drift?.drifts) flags.push(`drift ${c.drift.ratio}×`);
  if (c.rateShortfall) flags.push(`rate shortfall (${fmt(c.rateShortfall.achievedOpsPerSec)} of ${fmt(c.rateShortfall.targetOpsPerSec)}/s)`);
  return flags;
}

const pointName = (p: Point): string => `${p.model} ${p.protocol}${p.scenario === 'steady' ? '' : ` ${p.scenario}`}${p.variant ? ` (${p.variant})` : ''} at ${p.concurrency}` +
  (p.sweepFraction !== undefined ? `, ${fmt(p.sweepFraction * 100)}% of ${p.sweepOf ?? p.model}'s rate` : '');

/** The caveat of a finding that rests on flagged cells: which, and why, the first three of them. */
function caveatOf(points: Iterable<Point>): string | undefined {
  const flagged = [...points].flatMap((p) => {
    // One entry per kind of flag: "drift 0.87×" for one repetition, "drift in 3 of 5 repetitions" for several.
    const byKind = new Map<string, string[]>();
    for (const c of p.ok) {
      for (const f of cellFlags(c)) {
        const kind = f.replace(/ [\d(].*$/, '');
        byKind.set(kind, [...(byKind.get(kind) ?? []), f]);
      }
    }
    const why = [...byKind.entries()].map(([kind, all]) => (all.length === 1 ? all[0]! : `${kind} in ${all.length} of ${p.ok.length} repetitions`));
    return why.length > 0 ? [`${pointName(p)} (${why.join(', ')})`] : [];
  });
  if (flagged.length === 0) return undefined;
  const more = flagged.length > 3 ? `, and ${flagged.length - 3} more` : '';
  return `it rests on cells the run flagged: ${flagged.slice(0, 3).join('; ')}${more}`;
}

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ops = (s: Summary): string => (s.median < 1000 ? `${fmt(s.median, s.median < 10 ? 1 : 0)} ops/s` : `${fmt(s.median / 1000, s.median < 10_000 ? 1 : 0)}k ops/s`);
/** Microseconds as µs, ms or s, whichever reads best. */
const duration = (us: number): string => (us >= 10_000_000 ? `${fmt(us / 1e6, 1)} s` : us >= 10_000 ? `${fmt(us / 1000)} ms` : `${fmt(us)} µs`);
const ci = (s: Summary | null): string => (s?.ci ? ` [${fmt(s.ci.lo / 1000, 1)}–${fmt(s.ci.hi / 1000, 1)}k]` : '');

class Data {
  private readonly points: Point[];
  private readonly rated: Point[];
  readonly noise: Noise | null;
  constructor(readonly results: Results) {
    const all = groupCells(results.cells);
    this.points = all.filter((p) => p.rate === null && p.sweepFraction === undefined);
    this.rated = all.filter((p) => p.sweepOf !== undefined);
    this.noise = runNoise(results);
  }

  /** Equal-rate points (every model at fractions of one model's closed-loop rate), of `of` when given. */
  equalRate(of?: string): Point[] {
    return this.rated.filter((p) => of === undefined || p.sweepOf === of);
  }

  /** `model`'s equal-rate point at the same offered load as `like`. */
  equalRatePoint(model: string, like: Point): Point | undefined {
    return this.rated.find((p) => p.model === model && p.sweepOf === like.sweepOf && p.sweepFraction === like.sweepFraction &&
      p.protocol === like.protocol && p.scenario === like.scenario && p.concurrency === like.concurrency && p.variant === like.variant);
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
const notMeasured = (id: string, question: string, why: string): Finding => ({ id, question, verdict: 'not measured', sentence: `Not measured in this run: ${why}.` });

const tputOf = (q: Point): Summary => summarize(q, (c) => c.opsPerSec)!;
const cpuOf = (q: Point): Summary | null => summarize(q, (c) => cpuUsPerOp(c) ?? NaN);
const p50Of = (q: Point): Summary => summarize(q, (c) => c.latencyUs.p50)!;
const kib = (b: number): string => `${fmt(b / 1024)} KiB`;

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
  const j = judge("poll's rise over epoll's", poll, epoll, 'cpu', d.noise);
  const verdict: FindingVerdict = !j.clear ? 'no clear difference' : poll.median - epoll.median > 0.15 ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, margin: j.line, chart: CHART_FILES.metric(proto, 'idle', 'cpu-per-1k-ops') };
}

/**
 * Waste is CPU burnt for the same work: busy-poll and epoll meet the same offered rates (fractions
 * of epoll's closed-loop throughput at the same connections), and the CPU each used with nothing
 * to do is read before any load. Closed loop would credit spinning with the throughput it buys at
 * one connection, which is not the claim.
 */
function busyPoll(d: Data): Finding {
  const id = 'busy-poll-cpu';
  const question = 'Does busy-polling waste CPU compared with waiting in a selector?';
  const pairs = d.equalRate('epoll').flatMap((e) => {
    const b = d.equalRatePoint('busy-poll', e);
    return e.model === 'epoll' && b?.status === 'ok' && e.status === 'ok' ? [{ e, b }] : [];
  }).sort((x, y) => x.e.sweepFraction! - y.e.sweepFraction!);
  if (pairs.length === 0) return notMeasured(id, question, 'needs busy-poll and epoll at the same offered rates (the default suite runs them at 10% and 50% of epoll\'s closed-loop rate; or --models busy-poll,epoll --suite default)');
  const cpu = (q: Point): Summary => summarize(q, (c) => c.server.cpuPercent)!;
  const idleOf = (q: Point): number => summarize(q, (c) => c.idleCpu?.percent ?? NaN)?.median ?? NaN;
  const judged = pairs.map(({ e, b }) => ({ e, b, j: judge(`busy-poll's CPU over epoll's at ${fmt(e.sweepFraction! * 100)}% of epoll's rate`, cpu(b), cpu(e), 'cpu', d.noise) }));
  const at = judged.map(({ e, b }) => `at ${fmt(tputOf(e).median)} ops/s (${fmt(e.sweepFraction! * 100)}% of epoll's closed-loop rate) over ${e.concurrency} ${e.protocol} connection${e.concurrency === 1 ? '' : 's'}, busy-poll used ${fmt(cpu(b).median)}% of a core against epoll's ${fmt(cpu(e).median)}%`).join('; ');
  const [bi, ei] = [idleOf(pairs[0]!.b), idleOf(pairs[0]!.e)];
  const idle = Number.isFinite(bi) && Number.isFinite(ei) ? `; with nothing to do, ${fmt(bi)}% against ${fmt(ei)}%` : '';
  const sentence = `At the same offered load, ${at}${idle}.`;
  const wasteful = judged.every(({ j }) => j.clear && j.ratio >= 1.5);
  const equal = judged.every(({ j }) => !j.clear || j.ratio < 1.2);
  const verdict: FindingVerdict = wasteful ? 'holds' : judged.every(({ j }) => !j.clear) ? 'no clear difference' : equal ? 'does not hold' : 'no clear difference';
  return { id, question, verdict, sentence, margin: judged.map(({ j }) => j.line).join('; '), chart: CHART_FILES.latencyVsRate(pairs[0]!.e.protocol, 'steady', '', pairs[0]!.e.concurrency) };
}

/**
 * At a few connections a blocked thread pays no readiness call: the loops are no faster, by
 * closed-loop throughput and by latency at the same offered rate.
 */
function fewConnections(d: Data): Finding {
  const id = 'few-connections';
  const question = 'At a few connections, are selectors and event loops no faster than a thread per connection with blocking I/O?';
  const loops = ['epoll', 'async'].filter((m) => d.protocolFor([m, 'thread-per-connection']));
  const proto = d.protocolFor(['thread-per-connection', ...loops]);
  if (!proto || loops.length === 0) return notMeasured(id, question, 'needs thread-per-connection beside epoll or async');
  const n = d.common(['thread-per-connection', ...loops], proto, 'steady')[0]!;
  if (n > 4) return notMeasured(id, question, 'needs a cell at 4 connections or fewer (--concurrency 1,...)');
  const t = tputOf(d.point('thread-per-connection', proto, 'steady', n)!);
  const best = loops.map((m) => ({ m, s: tputOf(d.point(m, proto, 'steady', n)!) })).sort((a, b) => b.s.median - a.s.median)[0]!;
  const jt = judge(`${best.m}'s throughput over thread-per-connection's`, best.s, t, 'ops', d.noise);
  // The same offered rate for both: whose requests waited less?
  const rated = d.equalRate().filter((p) => p.model === 'thread-per-connection' && p.status === 'ok' && p.protocol === proto && p.concurrency === n)
    .map((p) => ({ p, loop: d.equalRatePoint(best.m, p) })).filter((x) => x.loop?.status === 'ok').sort((a, b) => b.p.sweepFraction! - a.p.sweepFraction!)[0];
  const jl = rated ? judge(`thread-per-connection's p50 over ${best.m}'s at equal rate`, p50Of(rated.p), p50Of(rated.loop!), 'p50', d.noise) : null;
  const latency = rated ? `; at the same ${fmt(tputOf(rated.p).median)} ops/s (${fmt(rated.p.sweepFraction! * 100)}% of ${rated.p.sweepOf}'s rate) their p50 latencies were ${fmt(p50Of(rated.p).median)} µs and ${fmt(p50Of(rated.loop!).median)} µs` : '';
  const sentence = `At ${n} ${proto} connection${n === 1 ? '' : 's'}, thread-per-connection served ${ops(t)}${ci(t)} against ${best.m}'s ${ops(best.s)}${ci(best.s)} (${fmt(t.median / best.s.median, 2)}×)${latency}.`;
  const loopsFaster = (jt.clear && jt.ratio >= 1.1) || (jl !== null && jl.clear && jl.ratio >= 1.1);
  const verdict: FindingVerdict = loopsFaster ? 'does not hold' : !jt.clear && (jl === null || !jl.clear) ? 'no clear difference' : 'holds';
  return { id, question, verdict, sentence, margin: [jt.line, jl?.line].filter(Boolean).join('; '), chart: CHART_FILES.metric(proto, 'steady', 'throughput') };
}

/** PSS added per connection from `lo` to `hi` connections, bytes, or null without PSS at both. */
function pssSlope(d: Data, model: string, proto: Protocol, lo: number, hi: number): number | null {
  const pss = (n: number): number | null => {
    const p = d.point(model, proto, 'steady', n);
    return p && p.status === 'ok' ? summarize(p, (c) => c.server.pssPeakBytes ?? NaN)?.median ?? null : null;
  };
  const [a, b] = [pss(lo), pss(hi)];
  return a === null || b === null ? null : (b - a) / (hi - lo);
}

/** Far more: a thread's stack and a process's heap are tens of KiB and more; a loop's connection a few KiB. */
const FAR_MORE_BYTES = 64 * 1024;
const ABOUT_THE_SAME_BYTES = 16 * 1024;

function memoryPerConnection(d: Data): Finding {
  const id = 'memory-per-connection';
  const question = 'Does an event loop need far less memory per connection than threads or processes?';
  const proto = d.protocolFor(['async']) ?? d.protocolFor(['epoll']);
  if (!proto) return notMeasured(id, question, 'needs async or epoll');
  const withPss = (m: string): number[] => d.common([m], proto, 'steady').filter((n) => summarizeQuiet(d.point(m, proto, 'steady', n)!, (c) => c.server.pssPeakBytes ?? NaN) !== null);
  const loop = ['epoll', 'async'].find((m) => withPss(m).length >= 2);
  const candidates = ['thread-per-connection', 'process-per-connection', 'native-threads', 'native-fork'].filter((m) => withPss(m).length >= 2);
  if (!loop || candidates.length === 0) return notMeasured(id, question, 'needs PSS at two or more concurrencies for an event loop and for thread- or process-per-connection');
  // One range for every model: the connections all of them were measured at, so no slope is taken
  // over a range where another model's could not be.
  const shared = withPss(loop).filter((n) => candidates.every((m) => withPss(m).includes(n)));
  if (shared.length < 2) return notMeasured(id, question, `needs two concurrencies where ${loop} and ${candidates.join(', ')} all had PSS`);
  const [lo, hi] = [shared[0]!, shared.at(-1)!];
  const loopSlope = pssSlope(d, loop, proto, lo, hi)!;
  const workers = candidates.map((m) => ({ m, slope: pssSlope(d, m, proto, lo, hi)! }));
  const parts = workers.map((w) => `${w.m} ${kib(Math.max(0, w.slope))}`).join(', ');
  const sentence = `Memory (PSS) added per ${proto} connection from ${lo} to ${hi} connections, the range every model here was measured over: ${loop} ${kib(Math.max(0, loopSlope))}; ${parts}.`;
  const least = workers.sort((a, b) => a.slope - b.slope)[0]!;
  const extra = least.slope - loopSlope;
  const margin = `${least.m}, the leanest of the others, needed ${kib(extra)} per connection more than ${loop}; "far more" asks ${kib(FAR_MORE_BYTES)} or more, "about the same" less than ${kib(ABOUT_THE_SAME_BYTES)}`;
  const verdict: FindingVerdict = extra >= FAR_MORE_BYTES ? 'holds' : extra < ABOUT_THE_SAME_BYTES ? 'does not hold' : 'no clear difference';
  return { id, question, verdict, sentence, margin, chart: CHART_FILES.metric(proto, 'steady', 'pss') };
}

/**
 * A fixed pool of --workers threads or processes has at most --workers requests in their work at
 * once, so in io-wait at more connections than workers it serves workers / delay, however many
 * connections wait. Only cells that ran count: a cell recorded without running, and any computed
 * ideal, are never evidence. prefork's cells there are `limit` (the connections beyond its
 * children wait in the accept backlog) with their measured figures, and count as measured.
 */
const POOLS = ['thread-pool', 'prefork'];

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
  // Against a bound, not a rival: the band is the margin (its repetitions' interval when it has them).
  const margin = judged.map((j) => `${j.p.model} served ${fmt(j.got.median / cap, 2)}× workers / delay${j.got.ci ? ` (interval ${fmt((j.got.ci.lo / cap), 2)}–${fmt(j.got.ci.hi / cap, 2)}×)` : ''}`).join('; ') +
    '; "holds" asks 0.5× to 1.1×, "does not hold" 1.5× or more';
  return { id, question, verdict, sentence, margin, chart: CHART_FILES.ioWaitVsIdeal(beyond[0]!.protocol) };
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
  const [cl, as] = [tputOf(d.point('cluster', proto, 'steady', n)!), tputOf(d.point('async', proto, 'steady', n)!)];
  const j = judge("cluster's throughput over async's", cl, as, 'ops', d.noise);
  const sentence = `On ${serverCpus} server CPUs at ${n} ${proto} connections, cluster served ${ops(cl)}${ci(cl)} against async's ${ops(as)}${ci(as)} (${fmt(cl.median / as.median, 2)}×).`;
  const verdict: FindingVerdict = !j.clear ? 'no clear difference' : j.ratio >= 1.3 ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, margin: j.line, chart: CHART_FILES.metric(proto, 'steady', 'throughput') };
}

/** The cpu scenario's answer to processes-cores: cluster (or prefork) against async when the server had two or more CPUs. */
function cpuSpread(d: Data): Pick<Finding, 'verdict' | 'sentence' | 'chart' | 'margin'> | null {
  for (const multi of ['cluster', 'prefork', 'process-per-connection']) {
    for (const proto of ['http', 'echo'] as const) {
      const n = d.common([multi, 'async'], proto, 'cpu').at(-1);
      if (n === undefined) continue;
      const a = d.point('async', proto, 'cpu', n)!;
      const cpus = a.ok[0]?.cpus?.server?.length ?? 0;
      if (cpus < 2) continue;
      const [m, l] = [tputOf(d.point(multi, proto, 'cpu', n)!), tputOf(a)];
      const j = judge(`${multi}'s throughput over async's`, m, l, 'ops', d.noise);
      const work = d.results.settings.work?.us ?? 0;
      return {
        verdict: !j.clear ? 'no clear difference' : j.ratio >= 1.3 ? 'holds' : 'does not hold',
        sentence: `With ${work} µs of CPU per request on ${cpus} server CPUs at ${n} ${proto} connections, ${multi} served ${ops(m)}${ci(m)} against async's ${ops(l)}${ci(l)} (${fmt(m.median / l.median, 2)}×).`,
        margin: j.line,
        chart: CHART_FILES.cpuByModel(proto, 'throughput'),
      };
    }
  }
  return null;
}

const LOOPS = ['async', 'epoll', 'generators', 'node-http', 'poll', 'select'];
/**
 * What a user would choose instead of a loop for waiting requests: a thread each. (The C ceilings
 * serve no io-wait: a cell they do not serve must never stand as a rival that could not hold the waits.)
 */
const THREADS = ['thread-per-connection'];

/** The io-wait variant a finding reads: PostgreSQL when the run has it, else the service. */
function ioVariant(d: Data, mode: 'pooled' | 'per-request'): string {
  return d.of('io-wait', `postgres ${mode}`).length > 0 ? `postgres ${mode}` : `service ${mode}`;
}

/** A limit that says the model does not serve the scenario at all: no evidence either way. */
function doesNotServe(p: Point): boolean {
  return p.status === 'limit' && p.cells.every((c) => /does not serve|serve [a-z, ]+ only|does not declare/.test(c.reason ?? ''));
}

/** An ideal in words: its value and, where the cell measured it, the CPU bound beside the waits'. */
function idealText(p: Point): string {
  const ideal = p.cells.find((c) => c.ideal)?.ideal;
  if (!ideal) return 'no ideal';
  const cpu = ideal.bounds?.cpu;
  return `ideal ${fmt(ideal.opsPerSec)} ops/s${cpu != null && ideal.bounds ? `: waits ${fmt(ideal.bounds.waits)}, CPU ${fmt(cpu)}` : ''}`;
}

/**
 * Loops against a thread per connection, both holding every wait, at the same connections: on
 * PostgreSQL (64, as many as a database holds) and on the service at 1,000, where a thread each
 * costs a thousand stacks. The verdict is read where the waits are most; the sentence says where the
 * two part.
 */
function ioWait(d: Data): Finding {
  const id = 'io-wait';
  const question = 'Does an event loop win when requests wait on I/O (a database)?';
  const stages = d.of('io-wait').filter((p) => p.cells[0]?.backendConnections === 'pooled' && !/, pool /.test(p.variant))
    .map((p) => ({ variant: p.variant, n: p.concurrency })).filter((s, i, all) => all.findIndex((x) => x.variant === s.variant && x.n === s.n) === i)
    .map(({ variant, n }) => {
      const at = (models: string[]): Point[] => models.map((m) => d.point(m, 'http', 'io-wait', n, variant) ?? d.point(m, 'echo', 'io-wait', n, variant)).filter((q): q is Point => q !== undefined);
      const best = (ps: Point[]): Point | undefined => ps.filter((q) => q.status === 'ok').sort((a, b) => tputOf(b).median - tputOf(a).median)[0] ?? ps.find((q) => !doesNotServe(q));
      return { variant, n, loop: best(at(LOOPS)), thread: best(at(THREADS)) };
    })
    .filter((s): s is { variant: string; n: number; loop: Point; thread: Point } => s.loop !== undefined && s.loop.status === 'ok' && s.thread !== undefined)
    .sort((a, b) => a.n - b.n);
  if (stages.length === 0) return notMeasured(id, question, 'needs an event loop (epoll, async) and a thread per connection (thread-per-connection) in io-wait, pooled, at the same connections (the default suite has 64 on PostgreSQL and 1,000 on the service)');
  const delayOf = (p: Point): number => p.cells[0]?.backendDelayMs ?? d.results.settings.backendDelayMs ?? 0;
  const judged = stages.map((s) => {
    const lt = tputOf(s.loop);
    const tt = s.thread.status === 'ok' ? tputOf(s.thread) : null;
    const j = tt ? judge(`at ${s.n}, ${s.loop.model} over ${s.thread.model}`, lt, tt, 'ops', d.noise) : null;
    const where = s.variant.startsWith('postgres') ? 'PostgreSQL' : 'the service';
    const threadPart = tt ? `${s.thread.model} ${ops(tt)}` : `${s.thread.model} could not (${s.thread.status}: ${s.thread.cells.find((c) => c.reason)?.reason ?? ''})`;
    const text = `at ${fmt(s.n)} connections on ${where}, each request waiting ${delayOf(s.loop)} ms (${idealText(s.loop)}), ${s.loop.model} served ${ops(lt)} and ${threadPart}`;
    // A loop wins: clearly ahead by a fifth, or the threads could not hold the waits at all.
    const wins = tt === null ? lt.median >= 0.5 * (s.loop.cells.find((c) => c.ideal)?.ideal?.opsPerSec ?? Infinity) : j!.clear && j!.ratio >= 1.2;
    const level = tt === null ? true : j!.clear;
    return { s, j, text, wins, level };
  });
  const last = judged.at(-1)!;
  const parted = judged.find((x) => x.wins);
  const part = judged.length > 1 ? (parted ? ` They part at ${fmt(parted.s.n)} connections.` : ' They did not part at any of these.') : '';
  const sentence = `Every model holding a wait per connection: ${judged.map((x) => x.text).join('; ')}.${part}`;
  const verdict: FindingVerdict = last.wins ? 'holds' : !last.level ? 'no clear difference' : 'does not hold';
  const margin = judged.map((x) => x.j?.line ?? `at ${x.s.n}, ${x.s.thread.model} had no figure to compare`).join('; ');
  return { id, question, verdict, sentence, margin, chart: CHART_FILES.ioWaitVsIdeal(last.s.loop.protocol) };
}

function backendPerRequest(d: Data): Finding {
  const id = 'backend-per-request';
  const question = 'Does a new connection per backend query cost much more than reusing one?';
  for (const m of ['epoll', 'async', ...LOOPS, 'thread-pool', 'prefork', 'thread-per-connection']) {
    for (const p of d.of('io-wait', ioVariant(d, 'per-request')).filter((x) => x.model === m && x.status === 'ok')) {
      const pooled = d.point(m, p.protocol, 'io-wait', p.concurrency, p.variant.replace('per-request', 'pooled'));
      if (!pooled || pooled.status !== 'ok') continue;
      const [cp, cr] = [cpuOf(pooled)!, cpuOf(p)!];
      const [tp, tr] = [tputOf(pooled), tputOf(p)];
      const onDb = p.variant.startsWith('postgres');
      const backend = (q: Point): string => fmt(summarize(q, (c) => (onDb ? c.database?.cpuPercent : c.service?.cpuPercent) ?? NaN)?.median ?? NaN);
      const sessions = (q: Point): string => {
        const c = q.ok[0]?.database;
        return c ? `${fmt(c.sessionsOpened)} sessions for ${fmt(c.queries)} queries` : '';
      };
      const what = onDb ? 'the database' : 'the backend service';
      const counted = onDb ? ` (${sessions(pooled)} pooled, ${sessions(p)} per request)` : '';
      const sentence = `${m} at ${p.concurrency} ${p.protocol} connections on ${onDb ? 'PostgreSQL' : 'the service stand-in'}: reusing connections served ${ops(tp)} at ${fmt(cp.median, 1)} µs of server CPU per request; a new connection per query served ${ops(tr)} (${fmt(tr.median / tp.median, 2)}×) at ${fmt(cr.median, 1)} µs (${fmt(cr.median / cp.median, 2)}×), and ${what}'s CPU went from ${backend(pooled)}% to ${backend(p)}% of a core${counted}.`;
      const jc = judge('CPU per request, per request over pooled', cr, cp, 'cpu', d.noise);
      const jt = judge('throughput, pooled over per request', tp, tr, 'ops', d.noise);
      const costly = (jc.clear && jc.ratio >= 1.5) || (jt.clear && jt.ratio >= 1.25);
      const verdict: FindingVerdict = costly ? 'holds' : !jc.clear && !jt.clear ? 'no clear difference' : 'does not hold';
      return { id, question, verdict, sentence, margin: `${jc.line}; ${jt.line}`, chart: CHART_FILES.ioWaitVsIdeal(p.protocol) };
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
      const f = tputOf(full);
      const rows = smaller.map((q) => ({ pool: q.cells[0]!.dbPool!, t: tputOf(q), ideal: q.cells.find((c) => c.ideal)?.ideal?.opsPerSec ?? NaN }));
      const least = rows[0]!;
      const enough = rows.find((r) => r.t.median >= 0.9 * f.median);
      const parts = rows.map((r) => `a pool of ${r.pool} served ${ops(r.t)}${ci(r.t)}${Number.isFinite(r.ideal) ? ` (ideal ${fmt(r.ideal)})` : ''}`).join(', ');
      const sentence = `${m} at ${full.concurrency} ${full.protocol} connections on ${backend === 'postgres' ? 'PostgreSQL' : 'the service stand-in'}, every query held ${delay} ms: ${parts}; a pool of ${full.concurrency} served ${ops(f)}${ci(f)}` +
        (enough ? `; the smallest pool within 10% of it was ${enough.pool}.` : '; no smaller pool came within 10% of it.');
      const j = judge(`a pool of ${least.pool} over one of ${full.concurrency}`, least.t, f, 'ops', d.noise);
      const verdict: FindingVerdict = !j.clear ? 'no clear difference' : j.ratio >= 0.9 ? 'holds' : 'does not hold';
      return { id, question, verdict, sentence, margin: j.line, chart: CHART_FILES.ioWaitPool(full.protocol, 'throughput') };
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
      const [ll, fl, lt, ft] = [p50Of(lp), p50Of(fp), tputOf(lp), tputOf(fp)];
      const cpus = lp.ok[0]?.cpus?.server?.length ?? 1;
      const stalled = n > 1 && ll.median >= 0.75 * n * work; // each request waited for the others' work
      const sentence = `With ${work} µs of CPU per request at ${n} ${proto} connections on ${cpus} server CPU${cpus === 1 ? '' : 's'}, ${loopModel} served ${ops(lt)} with a p50 of ${fmt(ll.median)} µs (each request also waits for the others' work); ${fix} served ${ops(ft)} (${fmt(ft.median / lt.median, 2)}×) with a p50 of ${fmt(fl.median)} µs.`;
      const j = judge(`${fix}'s throughput over ${loopModel}'s`, ft, lt, 'ops', d.noise);
      const verdict: FindingVerdict = !stalled ? 'does not hold' : !j.clear ? 'no clear difference' : j.ratio >= 1.2 && fl.median < ll.median ? 'holds' : 'does not hold';
      return { id, question, verdict, sentence, margin: `${loopModel}'s p50 was ${fmt(ll.median / Math.max(1, n * work), 2)}× the ${n} × ${work} µs a stalled request waits; ${j.line}`, chart: CHART_FILES.cpuByModel(proto, 'p99') };
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
  // Kept-alive at the same connections only: another concurrency would compare two loads.
  const steady = d.point(loop.model, loop.protocol, 'steady', loop.concurrency);
  const st = steady && steady.status === 'ok' ? tputOf(steady) : null;
  const parts = workers.map((w) => `${w.model} ${ops(tputOf(w))}, connect to first byte ${duration(conn(w).median)}`).join('; ');
  const keep = st ? ` (with connections kept, ${loop.model} served ${ops(st)} at the same ${loop.concurrency})` : ` (no kept-alive cell at ${loop.concurrency} connections to set beside it)`;
  const sentence = `With a new ${loop.protocol} connection per request at ${loop.concurrency} connections, ${loop.model} served ${ops(tputOf(loop))}${keep}, connect to first byte ${duration(conn(loop).median)}; ${parts}.`;
  const worst = workers.map((w) => ({ w, c: conn(w) })).sort((a, b) => b.c.median - a.c.median)[0]!;
  const j = judge(`${worst.w.model}'s connect to first byte over ${loop.model}'s`, worst.c, conn(loop), 'p50', d.noise);
  const verdict: FindingVerdict = !j.clear ? 'no clear difference' : j.ratio >= 5 ? 'holds' : j.ratio <= 1.5 ? 'does not hold' : 'no clear difference';
  const keptLine = st ? `; churn served ${fmt(tputOf(loop).median / st.median, 2)}× the kept-alive throughput` : '';
  return { id, question, verdict, sentence, margin: j.line + keptLine, chart: CHART_FILES.churnByModel(loop.protocol, 'connect') };
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
  const j = judge(`${proc}'s throughput over ${best.q.model}'s`, m, best.s, 'ops', d.noise);
  const verdict: FindingVerdict = !j.clear ? 'no clear difference' : oneCore && j.ratio >= 1.3 ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, margin: j.line, chart: CHART_FILES.cpuByModel(proto, 'throughput') };
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
  const margin = `served ${fmt(got.median / cap, 2)}× workers / delay; "holds" asks at most 1.1×, "does not hold" 1.5× or more`;
  return { id, question, verdict, sentence, margin, chart: CHART_FILES.ioWaitVsIdeal(at.protocol) };
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
  let margin: string;
  if (t.status !== 'ok') {
    verdict = oneThread && least.s.median >= 0.5 * ideal ? 'holds' : 'does not hold';
    margin = `${least.q.model} served ${fmt((least.s.median / ideal) * 100)}% of the ideal, where py-threading had no figure; "holds" asks half`;
  } else {
    const j = judge(`${least.q.model}'s throughput over py-threading's`, least.s, tput(t), 'ops', d.noise);
    margin = `${j.line}; the most threads of ${at.map((q) => q.model).join(' and ')} were ${fmt(Math.max(...at.map(threadsOf)))}, where "one thread" allows ${few}`;
    // A thread count is exact, no noise to beat: waits spread over many threads answer the claim
    // whatever the throughput, as they do when py-threading had no figure.
    verdict = !oneThread ? 'does not hold' : !j.clear ? 'no clear difference' : j.ratio >= 0.9 ? 'holds' : j.ratio < 0.67 ? 'does not hold' : 'no clear difference';
  }
  return { id, question, verdict, sentence, margin, chart: CHART_FILES.ioWaitVsIdeal(t.protocol) };
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
  const j = judge("py-selectors' throughput over py-asyncio's", st, at, 'ops', d.noise);
  const verdict: FindingVerdict = !j.clear ? 'no clear difference' : j.ratio >= 0.9 ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, margin: j.line, chart: CHART_FILES.ioWaitVsIdeal(s.protocol) };
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
  cpuS: Summary | null;
  baseCpuS: Summary | null;
}

/**
 * A framework's layers (its parser, request objects, router, callbacks) cost little over the
 * design it is built on: py-tornado and py-aiohttp over py-asyncio, py-twisted over py-selectors,
 * each pair at the same connections in steady HTTP and in io-wait on PostgreSQL, pooled.
 */
function pythonFrameworkCost(d: Data): Finding {
  const id = 'python-framework-cost';
  const question = 'Does a Python framework (Tornado, aiohttp, Twisted) cost little over the bare design it is built on?';
  const perOp = (q: Point): number => cpuOf(q)?.median ?? NaN;
  const pairs: FrameworkPair[] = [];
  for (const [scenario, variant, where] of [['steady', '', 'steady'], ['io-wait', 'postgres pooled', 'io-wait on PostgreSQL']] as const) {
    for (const { model, base } of FRAMEWORKS) {
      // The most connections both served, like with like: same scenario, protocol, variant, closed loop.
      const at = d.of(scenario, variant).filter((p) => p.model === model && p.protocol === 'http' && p.status === 'ok' && d.point(base, 'http', scenario, p.concurrency, variant)?.status === 'ok')
        .sort((a, b) => b.concurrency - a.concurrency)[0];
      if (!at) continue;
      const b = d.point(base, 'http', scenario, at.concurrency, variant)!;
      const [tput, baseTput] = [summarize(at, (c) => c.opsPerSec)!, summarize(b, (c) => c.opsPerSec)!];
      pairs.push({ model, base, where: `${where} at ${at.concurrency}`, ratio: tput.median / baseTput.median, cpu: perOp(at), baseCpu: perOp(b), tput, baseTput, cpuS: cpuOf(at), baseCpuS: cpuOf(b) });
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
  // The CPU per request is judged against the CPU's own noise: a throughput within its noise must
  // not hide twice the CPU, nor a clear throughput lend its clarity to a CPU difference.
  const judged = pairs.map((p) => ({
    p,
    j: judge(`${p.model} over ${p.base} in ${p.where}`, p.tput, p.baseTput, 'ops', d.noise),
    jc: p.cpuS && p.baseCpuS ? judge(`${p.model}'s CPU per request over ${p.base}'s in ${p.where}`, p.cpuS, p.baseCpuS, 'cpu', d.noise) : null,
  }));
  const costly = judged.filter(({ p, j, jc }) => (j.clear && p.ratio < 0.67) || (jc !== null && jc.clear && jc.ratio > 1.5));
  const little = judged.every(({ p, j }) => (p.ratio >= 0.8 || !j.clear) && p.cpu <= 1.25 * p.baseCpu);
  const verdict: FindingVerdict = costly.length > 0 ? 'does not hold' : little ? 'holds' : 'no clear difference';
  return { id, question, verdict, sentence, margin: judged.flatMap(({ j, jc }) => [j.line, ...(jc ? [jc.line] : [])]).join('; '), chart: 'http-cpu-per-1k-ops.png' };
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
  const j = judge("py-rq's throughput over py-multiprocessing's", qt, mt, 'ops', d.noise);
  const verdict: FindingVerdict = !j.clear ? 'no clear difference' : ratio >= 0.8 ? 'holds' : ratio < 0.5 ? 'does not hold' : 'no clear difference';
  return { id, question, verdict, sentence, margin: j.line, chart: 'http-cpu-throughput-by-model.png' };
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
  const rules = [
    fewConnections, memoryPerConnection, selectScales, busyPoll, poolCaps, processesUseCores, ioWait, backendPerRequest,
    poolSize, cpuStall, churnCost, pythonGil, pythonPoolCap, pythonManyWaits, pythonAsyncDriver, pythonFrameworkCost, pythonJobQueue,
  ];
  return rules.map((rule) => {
    reading = new Set();
    try {
      const f = explain(rule(d));
      const caveat = f.verdict === 'not measured' ? undefined : caveatOf(reading);
      return caveat ? { ...f, caveat } : f;
    } finally {
      reading = null;
    }
  });
}
