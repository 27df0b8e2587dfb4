// Findings: what a run says about the claims people make of these models, each a small pure rule
// over the results file with its numbers and the chart behind it. A claim whose data is not in the
// file is "not measured", never guessed. With repetitions, a comparison whose confidence intervals
// overlap is "no clear difference".
import type { Cell, MicroResults, Protocol, Results, Scenario } from '../harness/results.js';
import { groupCells, summarize, type Point, type Summary } from './aggregate.js';

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
const ops = (s: Summary): string => `${fmt(s.median / 1000, s.median < 10_000 ? 1 : 0)}k ops/s`;
const ci = (s: Summary | null): string => (s?.ci ? ` [${fmt(s.ci.lo / 1000, 1)}–${fmt(s.ci.hi / 1000, 1)}k]` : '');

/** Server CPU microseconds per operation. */
const cpuUsPerOp = (c: Cell): number | null => (c.ops > 0 ? ((c.server.cpuUserS + c.server.cpuSysS) / c.ops) * 1e6 : null);

class Data {
  private readonly points: Point[];
  constructor(readonly results: Results) {
    this.points = groupCells(results.cells).filter((p) => p.rate === null && p.sweepFraction === undefined);
  }

  point(model: string, protocol: Protocol, scenario: Scenario, concurrency: number): Point | undefined {
    return this.points.find((p) => p.model === model && p.protocol === protocol && p.scenario === scenario && p.concurrency === concurrency);
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
  return { id, question, verdict, sentence, chart: `${proto}-idle-cpu-per-1k-ops.png` };
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
  return { id, question, verdict, sentence, chart: `${proto}-cpu-per-1k-ops.png` };
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
  return { id, question, verdict, sentence, chart: `${proto}-throughput.png` };
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
  return { id, question, verdict, sentence, chart: `${proto}-pss.png` };
}

function poolCaps(d: Data): Finding {
  const id = 'pool-caps';
  const question = 'Does a bounded thread or process pool cap concurrency?';
  const capped = d.results.cells.filter((c) => (c.model === 'thread-pool' || c.model === 'prefork') && c.status === 'limit' && /serves at most/.test(c.reason ?? ''));
  const served = d.results.cells.filter((c) => (c.model === 'thread-pool' || c.model === 'prefork') && c.status === 'ok');
  if (capped.length === 0 && served.length === 0) return notMeasured(id, question, 'needs thread-pool or prefork');
  const workers = d.results.settings.workers;
  if (capped.length === 0) return { id, question, verdict: 'not measured', sentence: `Not measured in this run: no cell asked a pool for more than its ${workers} workers.` };
  const at = [...new Set(capped.map((c) => c.concurrency))].sort((a, b) => a - b);
  return {
    id, question, verdict: 'holds',
    sentence: `With persistent connections, ${[...new Set(capped.map((c) => c.model))].join(' and ')} with ${workers} workers served ${workers} connections at once; at ${at.join(', ')} the rest could only wait (recorded as limit).`,
  };
}

function processesUseCores(d: Data): Finding {
  const id = 'processes-cores';
  const question = 'Do processes use cores that one event loop cannot?';
  const serverCpus = d.results.env.pinning?.server?.length ?? 0;
  if (serverCpus < 2) return notMeasured(id, question, `the server had ${serverCpus || 'unpinned'} CPU${serverCpus === 1 ? '' : 's'}; needs --server-cpus 2 or more`);
  const proto = d.protocolFor(['cluster', 'async']);
  if (!proto) return notMeasured(id, question, 'needs cluster and async');
  const n = d.common(['cluster', 'async'], proto, 'steady').at(-1)!;
  const s = (m: string): Summary => summarize(d.point(m, proto, 'steady', n)!, (c) => c.opsPerSec)!;
  const [cl, as] = [s('cluster'), s('async')];
  const sentence = `On ${serverCpus} server CPUs at ${n} ${proto} connections, cluster served ${ops(cl)}${ci(cl)} against async's ${ops(as)}${ci(as)} (${fmt(cl.median / as.median, 2)}×).`;
  const verdict: FindingVerdict = overlap(cl, as) ? 'no clear difference' : cl.median / as.median >= 1.3 ? 'holds' : 'does not hold';
  return { id, question, verdict, sentence, chart: `${proto}-throughput.png` };
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
    notMeasured('io-wait', 'Does an event loop win when requests wait on I/O (a database)?', 'needs the io-wait scenario, which this version does not have yet'),
    notMeasured('backend-per-request', 'Does a new connection per backend query cost much more than reusing one?', 'needs the io-wait scenario with --backend-connections, which this version does not have yet'),
    notMeasured('cpu-stall', 'Does one CPU-heavy request stall every other connection on an event loop, and does a pool fix it?', 'needs the cpu scenario, which this version does not have yet'),
  ].map(explain);
}
