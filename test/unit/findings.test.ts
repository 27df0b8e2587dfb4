import { describe, expect, it } from 'vitest';
import { findings, type Finding } from '../../report/findings.js';
import { renderMarkdown } from '../../report/report.js';
import type { Cell, Results } from '../../schema/results.js';
import { buildTweaked, type TweakedSpec } from '../helpers/results-builder.js';

const MiB = 2 ** 20;
const find = (r: Results, id: string): Finding => findings(r).find((f) => f.id === id)!;

/** Results whose cells get `tweak(cell)` applied after building (server figures, scenario...). */
const run = (specs: TweakedSpec[]): Results => buildTweaked(specs);

describe('findings', () => {
  it('says "not measured", with what is needed, for every claim whose data is missing', () => {
    const r = run([{ model: 'epoll', concurrency: 16, opsPerSec: [100_000] }]);
    for (const f of findings(r)) {
      expect(f.verdict, f.id).toBe('not measured');
      expect(f.sentence, f.id).toMatch(/^Not measured in this run: /);
    }
  });

  it('few connections: holds when thread-per-connection keeps up with the best loop, and not when it does not', () => {
    const make = (t: number) => run([
      { model: 'thread-per-connection', concurrency: 1, opsPerSec: [t] },
      { model: 'epoll', concurrency: 1, opsPerSec: [30_000] },
      { model: 'async', concurrency: 1, opsPerSec: [25_000] },
    ]);
    expect(find(make(29_000), 'few-connections').verdict).toBe('holds');
    expect(find(make(29_000), 'few-connections').sentence).toBe("At 1 echo connection, thread-per-connection served 29k ops/s against epoll's 30k ops/s (0.97×).");
    expect(find(make(20_000), 'few-connections').verdict).toBe('does not hold');
  });

  it('few connections: no clear difference when the repetitions\' intervals overlap', () => {
    const r = run([
      { model: 'thread-per-connection', concurrency: 1, opsPerSec: [20_000, 26_000, 31_000, 24_000, 29_000] },
      { model: 'epoll', concurrency: 1, opsPerSec: [27_000, 30_000, 25_000, 32_000, 28_000] },
    ]);
    expect(find(r, 'few-connections').verdict).toBe('no clear difference');
  });

  it('memory per connection: the PSS slope of threads against an event loop', () => {
    const pss = (perConn: number) => (c: Cell) => void (c.server.pssPeakBytes = 20 * MiB + c.concurrency * perConn);
    const r = run([
      { model: 'epoll', concurrency: 1, opsPerSec: [1], tweak: pss(2048) },
      { model: 'epoll', concurrency: 256, opsPerSec: [1], tweak: pss(2048) },
      { model: 'thread-per-connection', concurrency: 1, opsPerSec: [1], tweak: pss(9 * MiB) },
      { model: 'thread-per-connection', concurrency: 256, opsPerSec: [1], tweak: pss(9 * MiB) },
    ]);
    const f = find(r, 'memory-per-connection');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toBe('Memory (PSS) added per echo connection from 1 to 256 connections, the range every model here was measured over: epoll 2 KiB; thread-per-connection 9,216 KiB.');
    expect(f.margin).toBe('thread-per-connection, the leanest of the others, needed 9,214 KiB per connection more than epoll; "far more" asks 64 KiB or more, "about the same" less than 16 KiB');
    expect(f.chart).toBe('echo-pss.png');
  });

  it('busy-poll: holds when it burns far more CPU than epoll at the same offered rate, not when the two cost alike', () => {
    const equalRate = (fraction: number, pct: number, idle: number) => (c: Cell) => {
      c.sweepOf = 'epoll';
      c.sweepFraction = fraction;
      c.rate = c.opsPerSec;
      c.server.cpuPercent = pct;
      c.idleCpu = { percent: idle, s: 0.5 };
    };
    const make = (busy10: number, busy50: number) => run([
      { model: 'epoll', concurrency: 1, opsPerSec: [30_000] },
      { model: 'busy-poll', concurrency: 1, opsPerSec: [60_000] },
      { model: 'epoll', concurrency: 1, opsPerSec: [3000], tweak: equalRate(0.1, 8, 0) },
      { model: 'busy-poll', concurrency: 1, opsPerSec: [3000], tweak: equalRate(0.1, busy10, 99) },
      { model: 'epoll', concurrency: 1, opsPerSec: [15_000], tweak: equalRate(0.5, 40, 0) },
      { model: 'busy-poll', concurrency: 1, opsPerSec: [15_000], tweak: equalRate(0.5, busy50, 99) },
    ]);
    const waste = find(make(99, 99), 'busy-poll-cpu');
    expect(waste.verdict).toBe('holds');
    expect(waste.sentence).toBe("At the same offered load, at 3,000 ops/s (10% of epoll's closed-loop rate) over 1 echo connection, busy-poll used 99% of a core against epoll's 8%; at 15,000 ops/s (50% of epoll's closed-loop rate) over 1 echo connection, busy-poll used 99% of a core against epoll's 40%; with nothing to do, 99% against 0%.");
    expect(find(make(8.5, 41), 'busy-poll-cpu').verdict).toBe('does not hold');
    // Closed loop alone (spinning buys throughput at one connection) is not the claim.
    const closedOnly = run([{ model: 'epoll', concurrency: 1, opsPerSec: [30_000] }, { model: 'busy-poll', concurrency: 1, opsPerSec: [60_000] }]);
    expect(find(closedOnly, 'busy-poll-cpu').verdict).toBe('not measured');
  });

  it('selectors: holds when poll pays more per operation beside idle connections and epoll does not', () => {
    const perOp = (us: number) => (c: Cell) => {
      c.server.cpuUserS = (us / 1e6) * c.ops;
      c.server.cpuSysS = 0;
    };
    const idle = (us: number) => (c: Cell) => {
      c.scenario = 'idle';
      perOp(us)(c);
    };
    const r = run([
      { model: 'poll', concurrency: 64, opsPerSec: [1000], tweak: perOp(10) },
      { model: 'poll', concurrency: 64, opsPerSec: [1000], tweak: idle(14) },
      { model: 'epoll', concurrency: 64, opsPerSec: [1000], tweak: perOp(10) },
      { model: 'epoll', concurrency: 64, opsPerSec: [1000], tweak: idle(10.2) },
    ]);
    const f = find(r, 'selectors-scale');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toBe('Beside 1,000 idle connections, server CPU per operation at 64 active echo connections changed by +40% for poll and +2% for epoll.');
  });

  it('says what a cost is made of when micro.json is there', () => {
    const pss = (perConn: number) => (c: Cell) => void (c.server.pssPeakBytes = 20 * MiB + c.concurrency * perConn);
    const r = run([
      { model: 'async', concurrency: 1, opsPerSec: [1], tweak: pss(2048) },
      { model: 'async', concurrency: 64, opsPerSec: [1], tweak: pss(2048) },
      { model: 'process-per-connection', concurrency: 1, opsPerSec: [1], tweak: pss(10 * MiB) },
      { model: 'process-per-connection', concurrency: 64, opsPerSec: [1], tweak: pss(10 * MiB) },
    ]);
    const task = (name: string, meanNs: number) => ({ name, what: '', state: 'completed', meanNs, p50Ns: meanNs, p99Ns: meanNs, rmePercent: 1, samples: 64 });
    const micro = { schemaVersion: 1 as const, kind: 'micro' as const, startedAt: '', command: '', env: r.env, timePerTaskS: 0.3,
      tasks: [task('worker thread start+exit', 18_800_000), task('node process spawn+exit', 56_200_000), task('process spawn+exit (/bin/true)', 1_750_000)] };
    const f = findings(r, micro).find((x) => x.id === 'memory-per-connection')!;
    expect(f.sentence).toMatch(/ Starting one costs, here: a worker thread 18\.8 ms, a Node process 56\.2 ms, the OS's own fork\/exec 1\.8 ms \(npm run micro\)\.$/);
    expect(find(r, 'memory-per-connection').sentence).not.toContain('npm run micro');
  });

  it('says when a finding rests on cells the run flagged, naming them and why, and only those it read', () => {
    const make = (saturated: boolean) => run([
      { model: 'thread-per-connection', concurrency: 1, opsPerSec: [29_000], saturated },
      { model: 'epoll', concurrency: 1, opsPerSec: [30_000] },
      // A flagged cell the rule does not read: never named.
      { model: 'epoll', concurrency: 256, opsPerSec: [30_000], saturated: true },
    ]);
    const flagged = find(make(true), 'few-connections');
    expect(flagged.caveat).toBe('it rests on cells the run flagged: thread-per-connection echo at 1 (client saturated)');
    expect(renderMarkdown(make(true), [])).toContain('  - Caveat: it rests on cells the run flagged: thread-per-connection echo at 1 (client saturated).');
    expect(find(make(false), 'few-connections').caveat).toBeUndefined();
    // A server that fills its own core is what closed loop measures; one whose core others filled is flagged.
    const crowded = make(false);
    const epoll = crowded.cells.find((c) => c.model === 'epoll' && c.concurrency === 1)!;
    epoll.cores = { server: [{ cpu: 1, busyPercent: 99, softirqPercent: 30 }], client: [], full: ['server'] };
    epoll.server.cpuPercent = 95;
    expect(find(crowded, 'few-connections').caveat).toBeUndefined();
    epoll.server.cpuPercent = 55;
    expect(find(crowded, 'few-connections').caveat).toBe("it rests on cells the run flagged: epoll echo at 1 (server's CPUs filled by others)");
    // One entry per kind: a drift in several repetitions is counted, not listed.
    const drifting = run([
      { model: 'thread-per-connection', concurrency: 1, opsPerSec: [29_000, 29_500, 29_200] },
      { model: 'epoll', concurrency: 1, opsPerSec: [30_000, 30_100, 30_200] },
    ]);
    drifting.cells.filter((c) => c.model === 'epoll').slice(0, 2).forEach((c, i) => { c.drift = { firstOpsPerSec: 8, lastOpsPerSec: 10, ratio: 0.8 + i / 100, drifts: true }; });
    expect(find(drifting, 'few-connections').caveat).toBe('it rests on cells the run flagged: epoll echo at 1 (drift in 2 of 3 repetitions)');
    drifting.cells.find((c) => c.model === 'epoll' && c.repetition === 2)!.drift!.drifts = false;
    expect(find(drifting, 'few-connections').caveat).toBe('it rests on cells the run flagged: epoll echo at 1 (drift 0.8×)');
  });

  it('opens report.md, before the machine and the tables', () => {
    const md = renderMarkdown(run([{ model: 'epoll', opsPerSec: [1] }]), []);
    expect(md.indexOf('## Findings')).toBeGreaterThan(0);
    expect(md.indexOf('## Findings')).toBeLessThan(md.indexOf('## Machine'));
    expect(md).toContain('- **Does an event loop win when requests wait on I/O (a database)?** not measured: Not measured in this run: needs an event loop (epoll, async) and a thread per connection (thread-per-connection) in io-wait');
  });
});

describe('findings of the scenarios', () => {
  const io = (mode: 'pooled' | 'per-request', ideal: number, extra: (c: Cell) => void = () => {}) => (c: Cell) => {
    c.scenario = 'io-wait';
    c.protocol = 'http';
    c.backendConnections = mode;
    c.ideal = { opsPerSec: ideal, basis: 'test' };
    c.service = { cpuPercent: mode === 'pooled' ? 10 : 30, queries: c.ops, waitingPeak: c.concurrency, connectionsPeak: c.concurrency };
    extra(c);
  };
  const settings = { backendDelayMs: 10, workers: 4, work: { us: 200, iterations: 1, nsPerIteration: 1 } };

  it('io-wait: a loop against a thread per connection at the same connections, read where the waits are most', () => {
    const at1000 = (ideal: number) => io('pooled', ideal, (c) => { c.backend = 'service'; c.backendDelayMs = 100; c.dbPool = c.concurrency; });
    const make = (threads1000: number) => {
      const r = run([
        { model: 'async', concurrency: 64, opsPerSec: [5800], tweak: io('pooled', 6400) },
        { model: 'thread-per-connection', concurrency: 64, opsPerSec: [5200], tweak: io('pooled', 6400) },
        { model: 'epoll', concurrency: 1000, opsPerSec: [9700], tweak: at1000(10_000) },
        { model: 'thread-per-connection', concurrency: 1000, opsPerSec: [threads1000], tweak: at1000(10_000) },
      ]);
      r.settings = { ...r.settings, ...settings };
      return r;
    };
    const f = find(make(3000), 'io-wait');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toBe('Every model holding a wait per connection: at 64 connections on the service, each request waiting 10 ms (ideal 6,400 ops/s), async served 5.8k ops/s and thread-per-connection 5.2k ops/s; at 1,000 connections on the service, each request waiting 100 ms (ideal 10,000 ops/s), epoll served 9.7k ops/s and thread-per-connection 3.0k ops/s. They part at 1,000 connections.');
    expect(f.chart).toBe('http-io-wait-vs-ideal.png');
    expect(find(make(9800), 'io-wait').verdict).toBe('does not hold');
    // A thread model that does not serve the scenario is no rival that failed to hold the waits:
    // the verdict falls back to 64, where the two are 1.12× apart.
    const notServed = make(0);
    const t1000 = notServed.cells.find((c) => c.model === 'thread-per-connection' && c.concurrency === 1000)!;
    Object.assign(t1000, { status: 'limit', reason: 'thread-per-connection does not serve io-wait' });
    const back = find(notServed, 'io-wait');
    expect(back.verdict).toBe('does not hold');
    expect(back.sentence).not.toMatch(/1,000 connections/);
    Object.assign(t1000, { reason: 'only 38 of 1000 connections were answered within the 20 s connect cap' });
    expect(find(notServed, 'io-wait').verdict).toBe('holds');
  });

  describe('pool caps: measured throughput beyond the workers against workers / delay', () => {
    const latency = (p50: number, p99 = p50 * 2) => (c: Cell) => { c.latencyUs = { ...c.latencyUs, p50, p99 }; };
    const backlog = (c: Cell) => {
      c.reason = 'only 4 of 64 connections had been answered when the window opened: prefork serves 4 at once (--workers 4); the other 60 waited in the accept backlog, unanswered';
      c.outstanding = 62;
      latency(10_500, 4_200_000)(c);
    };
    const make = (pool: number[], fork: number[] = [390]) => {
      const r = run([
        { model: 'thread-pool', concurrency: 4, opsPerSec: [392], tweak: io('pooled', 400) },
        { model: 'thread-pool', concurrency: 64, opsPerSec: pool, tweak: io('pooled', 400, latency(165_000)) },
        { model: 'prefork', concurrency: 64, opsPerSec: fork, status: 'limit', tweak: io('pooled', 400, backlog) },
      ]);
      r.settings = { ...r.settings, ...settings };
      return find(r, 'pool-caps');
    };

    it('holds when each pool served about workers / delay beyond its workers, with the queue in thread-pool\'s latency and the backlog in prefork\'s', () => {
      const f = make([385]);
      expect(f.verdict).toBe('holds');
      expect(f.sentence).toBe('With every query held 10 ms on the service stand-in, workers / delay = 400 ops/s for 4 workers: ' +
        'thread-pool served 385 ops/s at 64 http connections (96%), 392 ops/s at 4, with a p50 latency of 165 ms where 64 connections queueing for 4 workers make 166 ms; ' +
        'prefork served 390 ops/s at 64 http connections (98%) on the connections it had answered; 62 requests were still unanswered when the window closed, and its p99 latency was 4,200 ms ' +
        '(limit: only 4 of 64 connections had been answered when the window opened: prefork serves 4 at once (--workers 4); the other 60 waited in the accept backlog, unanswered).');
      expect(f.chart).toBe('http-io-wait-vs-ideal.png');
    });

    it('does not hold when a pool served far more than workers / delay', () => {
      expect(make([2000]).verdict).toBe('does not hold');
      expect(make([385], [1200]).verdict).toBe('does not hold'); // the limit cell's measured figures count
    });

    it('no clear difference between the cap and 1.5× it, far below it, or when the repetitions straddle it', () => {
      expect(make([500]).verdict).toBe('no clear difference');
      expect(make([120]).verdict).toBe('no clear difference'); // something else set the pace
      expect(make([300, 420, 520, 380, 460]).verdict).toBe('no clear difference');
      const steady = make([380, 390, 400, 395, 385]);
      expect(steady.verdict).toBe('holds');
      expect(steady.sentence).toMatch(/: thread-pool served 390 ops\/s \[\d{3}–\d{3}\] at 64 http connections \(98%\), 392 ops\/s at 4, /);
    });

    it('not measured from cells that were not run, whatever their computed ideal, nor from cells at the workers alone', () => {
      const refused = run([{ model: 'thread-pool', concurrency: 64, opsPerSec: [0], status: 'limit', tweak: io('pooled', 400) }]);
      refused.cells[0]!.reason = 'thread-pool serves at most 4 connections at once (--workers 4): 60 of 64 would only wait; not run';
      refused.cells[0]!.durationS = 0;
      refused.settings = { ...refused.settings, ...settings };
      const f = find(refused, 'pool-caps');
      expect(f.verdict).toBe('not measured');
      expect(f.sentence).toBe('Not measured in this run: needs thread-pool or prefork run in io-wait, pooled, at more connections than their 4 workers (--models thread-pool,prefork --scenarios io-wait --concurrency 4,64).');
      const within = run([{ model: 'thread-pool', concurrency: 4, opsPerSec: [392], tweak: io('pooled', 400) }]);
      within.settings = { ...within.settings, ...settings };
      expect(find(within, 'pool-caps').verdict).toBe('not measured');
      const failed = run([{ model: 'prefork', concurrency: 64, opsPerSec: [390], status: 'failed', tweak: io('pooled', 400) }]);
      failed.settings = { ...failed.settings, ...settings };
      expect(find(failed, 'pool-caps').verdict).toBe('not measured');
    });
  });

  it('backend per request: CPU per request against pooled, for the same model and concurrency', () => {
    const cpu = (us: number) => (c: Cell) => { c.server.cpuUserS = (us * c.ops) / 1e6; c.server.cpuSysS = 0; };
    const r = run([
      { model: 'epoll', concurrency: 64, opsPerSec: [6000], tweak: io('pooled', 6400, cpu(18)) },
      { model: 'epoll', concurrency: 64, opsPerSec: [5400], tweak: io('per-request', 6400, cpu(36)) },
    ]);
    r.settings = { ...r.settings, ...settings };
    const f = find(r, 'backend-per-request');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toMatch(/^epoll at 64 http connections on the service stand-in: reusing connections served 6\.0k ops\/s at 18\.0 µs .* a new connection per query served 5\.4k ops\/s \(0\.90×\) at 36\.0 µs \(2\.00×\), and the backend service's CPU went from 10% to 30% of a core\.$/);
  });

  it('backend per request on PostgreSQL: the database\'s own CPU and the sessions it counted', () => {
    const db = (cpu: number, sessions: number) => (c: Cell) => {
      c.backend = 'postgres';
      c.database = { cpuPercent: cpu, sessionsOpened: sessions, queries: c.ops, pssPeakBytes: null, processesPeak: 10 };
    };
    const r = run([
      { model: 'epoll', concurrency: 64, opsPerSec: [5800], tweak: io('pooled', 6400, db(12, 64)) },
      { model: 'epoll', concurrency: 64, opsPerSec: [400], tweak: io('per-request', 6400, db(95, 2000)) },
    ]);
    r.settings = { ...r.settings, ...settings };
    const f = find(r, 'backend-per-request');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toMatch(/^epoll at 64 http connections on PostgreSQL: .* served 400 ops\/s \(0\.07×\) .* and the database's CPU went from 12% to 95% of a core \(64 sessions for 29,000 queries pooled, 2,000 sessions for 2,000 queries per request\)\.$/);
  });

  it('pool size: holds when a small pool serves within 10% of a full one, not when it is capped at pool / delay', () => {
    const pool = (size: number) => (c: Cell) => { io('pooled', Math.min(size, 64) * 100)(c); c.backend = 'postgres'; c.dbPool = size; };
    const make = (small: number[]) => {
      const r = run([
        { model: 'epoll', concurrency: 64, opsPerSec: small, tweak: pool(4) },
        { model: 'epoll', concurrency: 64, opsPerSec: [5900, 6000, 6100], tweak: pool(64) },
      ]);
      r.settings = { ...r.settings, ...settings };
      return find(r, 'pool-size');
    };
    const capped = make([380, 390, 400]);
    expect(capped.verdict).toBe('does not hold');
    expect(capped.sentence).toMatch(/^epoll at 64 http connections on PostgreSQL, every query held 10 ms: a pool of 4 served 390 ops\/s .*\(ideal 400\); a pool of 64 served 6\.0k ops\/s.*; no smaller pool came within 10% of it\.$/);
    expect(make([5700, 5750, 5800]).verdict).toBe('holds');
    expect(make([5000, 6000, 6500]).verdict).toBe('no clear difference');
  });

  it('cpu stall: a loop that serialises the work against a pool that spreads it', () => {
    const cpuCell = (p50: number) => (c: Cell) => { c.scenario = 'cpu'; c.protocol = 'http'; c.latencyUs.p50 = p50; c.cpus = { server: [0, 1], client: [0] }; };
    const r = run([
      { model: 'async', concurrency: 4, opsPerSec: [4500], tweak: cpuCell(700) },
      { model: 'thread-pool', concurrency: 4, opsPerSec: [8500], tweak: cpuCell(420) },
      { model: 'cluster', concurrency: 4, opsPerSec: [7800], tweak: cpuCell(450) },
    ]);
    r.settings = { ...r.settings, ...settings };
    const f = find(r, 'cpu-stall');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toBe("With 200 µs of CPU per request at 4 http connections on 2 server CPUs, async served 4.5k ops/s with a p50 of 700 µs (each request also waits for the others' work); thread-pool served 8.5k ops/s (1.89×) with a p50 of 420 µs.");
    // The cpu scenario also answers whether processes use cores one loop cannot.
    expect(find(r, 'processes-cores').sentence).toBe("With 200 µs of CPU per request on 2 server CPUs at 4 http connections, cluster served 7.8k ops/s against async's 4.5k ops/s (1.73×).");
  });

  it('churn: connect to first byte of a thread per connection against an event loop', () => {
    const churn = (p50: number) => (c: Cell) => { c.scenario = 'churn'; c.protocol = 'http'; c.connectUs = { p50, p99: p50 * 2, max: p50 * 3 }; };
    const r = run([
      { model: 'epoll', concurrency: 16, opsPerSec: [27_000], tweak: churn(560) },
      { model: 'thread-per-connection', concurrency: 16, opsPerSec: [25], tweak: churn(650_000) },
    ]);
    const f = find(r, 'churn');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toBe('With a new http connection per request at 16 connections, epoll served 27k ops/s (no kept-alive cell at 16 connections to set beside it), connect to first byte 560 µs; thread-per-connection 25 ops/s, connect to first byte 650 ms.');
  });
});

describe('findings about Python', () => {
  const settings = { backendDelayMs: 10, workers: 4, work: { us: 200, iterations: 1, nsPerIteration: 1 } };
  const external = (c: Cell) => { c.family = 'external'; c.protocol = 'http'; };
  const cpuCell = (cpuPercent: number, serverCpus = [0, 1]) => (c: Cell) => {
    external(c);
    c.scenario = 'cpu';
    c.server.cpuPercent = cpuPercent;
    c.cpus = { server: serverCpus, client: [0] };
  };
  const io = (backend: 'postgres' | 'service', ideal: number, extra: (c: Cell) => void = () => {}) => (c: Cell) => {
    external(c);
    c.scenario = 'io-wait';
    c.backend = backend;
    c.backendConnections = 'pooled';
    c.dbPool = c.concurrency;
    c.ideal = { opsPerSec: ideal, basis: 'test' };
    extra(c);
  };
  const threads = (n: number, p50 = 1000) => (c: Cell) => { c.server.threadsPeak = n; c.latencyUs.p50 = p50; };
  const withSettings = (r: Results): Results => ({ ...r, settings: { ...r.settings, ...settings } });
  const limitFor = (pkg: string) => (c: Cell) => { c.reason = `${c.model} needs the Python module m, which /usr/bin/python3 cannot import (Debian package: ${pkg})`; };

  it('the GIL: holds when threads stay near one core and processes serve 1.3× or more; not when threads use both cores', () => {
    const make = (threadCpu: number, procOps: number) => withSettings(run([
      { model: 'py-threading', concurrency: 4, opsPerSec: [3300], tweak: cpuCell(threadCpu) },
      { model: 'py-threadpool', concurrency: 4, opsPerSec: [3000], tweak: cpuCell(threadCpu) },
      { model: 'py-multiprocessing', concurrency: 4, opsPerSec: [procOps], tweak: cpuCell(190) },
    ]));
    const f = find(make(104, 7100), 'python-gil');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toBe('With 200 µs of CPU per request on 2 server CPUs at 4 http connections, py-threading served 3.3k ops/s using 104% of a core, py-threadpool served 3.0k ops/s using 104% of a core; py-multiprocessing served 7.1k ops/s using 190% (2.15× py-threading).');
    expect(f.chart).toBe('http-cpu-throughput-by-model.png');
    expect(find(make(185, 7100), 'python-gil').verdict).toBe('does not hold'); // threads that run on both cores: no GIL in the way
    expect(find(make(104, 3600), 'python-gil').verdict).toBe('does not hold'); // processes that do not spread
    const one = withSettings(run([
      { model: 'py-threading', concurrency: 4, opsPerSec: [3300], tweak: cpuCell(100, [1]) },
      { model: 'py-multiprocessing', concurrency: 4, opsPerSec: [3400], tweak: cpuCell(100, [1]) },
    ]));
    expect(find(one, 'python-gil').sentence).toBe('Not measured in this run: the server had 1 CPU in the cpu cells; needs two or more (the cpu scenario gives the server every CPU with --pin auto).');
  });

  it('a thread pool caps the waits in flight: holds at workers / delay with the queueing in its latency, not when it serves far more', () => {
    const make = (pool: number) => withSettings(run([
      { model: 'py-threadpool', concurrency: 64, opsPerSec: [pool], tweak: io('postgres', 400, threads(5, 165_000)) },
      { model: 'py-threading', concurrency: 64, opsPerSec: [4800], tweak: io('postgres', 6400, threads(66)) },
    ]));
    const f = find(make(385), 'python-threadpool-cap');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toBe('With every query held 10 ms, py-threadpool with 4 workers served 385 ops/s at 64 http connections, 96% of workers / delay = 400 ops/s; its p50 latency was 165 ms, where 64 connections queueing for 4 workers make 166 ms; py-threading, which holds a wait per connection, served 4.8k ops/s.');
    expect(f.chart).toBe('http-io-wait-vs-ideal.png');
    expect(find(make(2000), 'python-threadpool-cap').verdict).toBe('does not hold');
    expect(find(make(500), 'python-threadpool-cap').verdict).toBe('no clear difference');
  });

  it('gevent and asyncio hold many waits: holds on a few threads as well as a thread each, not when they fall behind', () => {
    const make = (green: number, greenThreads = 1) => withSettings(run([
      { model: 'py-gevent', concurrency: 1000, opsPerSec: [green], tweak: io('service', 100_000, threads(greenThreads)) },
      { model: 'py-asyncio', concurrency: 1000, opsPerSec: [green * 1.1], tweak: io('service', 100_000, threads(1)) },
      { model: 'py-threading', concurrency: 1000, opsPerSec: [9000], tweak: io('service', 100_000, threads(1002)) },
      { model: 'py-threading', concurrency: 64, opsPerSec: [5000], tweak: io('postgres', 6400, threads(66)) },
    ]));
    const f = find(make(9500), 'python-many-waits');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toBe('In io-wait on the service stand-in at 1000 http connections, every query held 10 ms (ideal 100,000 ops/s): py-gevent served 9.5k ops/s on 1 thread, py-asyncio served 10k ops/s on 1 thread; py-threading served 9.0k ops/s on 1,002 threads.');
    expect(find(make(4000), 'python-many-waits').verdict).toBe('does not hold');
    expect(find(make(9500, 11), 'python-many-waits').verdict).toBe('holds'); // the loop and gevent's resolver threads
    expect(find(make(9500, 40), 'python-many-waits').verdict).toBe('does not hold'); // not on one thread
    expect(find(make(7000), 'python-many-waits').verdict).toBe('no clear difference');
  });

  it("psycopg2's asynchronous mode in a selector: holds within 10% of asyncpg, not when clearly behind", () => {
    const cpu = (us: number) => (c: Cell) => { c.server.cpuUserS = (us * c.ops) / 1e6; c.server.cpuSysS = 0; };
    const make = (sel: number) => withSettings(run([
      { model: 'py-selectors', concurrency: 64, opsPerSec: [sel], tweak: io('postgres', 6400, cpu(120)) },
      { model: 'py-asyncio', concurrency: 64, opsPerSec: [5000], tweak: io('postgres', 6400, cpu(100)) },
    ]));
    const f = find(make(4800), 'python-psycopg2-async');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toBe('On PostgreSQL at 64 http connections, every query held 10 ms (ideal 6,400 ops/s): py-selectors with psycopg2 in asynchronous mode served 4.8k ops/s at 120 µs of server CPU per request; py-asyncio with asyncpg served 5.0k ops/s at 100 µs (0.96×).');
    expect(find(make(3000), 'python-psycopg2-async').verdict).toBe('does not hold');
    const overlapping = withSettings(run([
      { model: 'py-selectors', concurrency: 64, opsPerSec: [3000, 5200, 4100, 3600, 4900], tweak: io('postgres', 6400) },
      { model: 'py-asyncio', concurrency: 64, opsPerSec: [4800, 3900, 5100, 4400, 4600], tweak: io('postgres', 6400) },
    ]));
    expect(find(overlapping, 'python-psycopg2-async').verdict).toBe('no clear difference');
  });

  /** Server CPU of `us` µs per request over the cell's ops. */
  const cpuPer = (us: number) => (c: Cell) => { c.server.cpuUserS = (us * c.ops) / 1e6; c.server.cpuSysS = 0; };
  const steadyHttp = (us: number) => (c: Cell) => { external(c); cpuPer(us)(c); };

  it('a framework costs little over its design: holds within 0.8× the throughput for 1.25× the CPU, not when it costs far more, in between neither', () => {
    const make = (tornadoOps: number, tornadoUs: number) => withSettings(run([
      { model: 'py-tornado', concurrency: 64, opsPerSec: [tornadoOps], tweak: steadyHttp(tornadoUs) },
      { model: 'py-aiohttp', concurrency: 64, opsPerSec: [50_000], tweak: steadyHttp(20) },
      { model: 'py-asyncio', concurrency: 64, opsPerSec: [55_000], tweak: steadyHttp(18) },
      { model: 'py-twisted', concurrency: 64, opsPerSec: [0], status: 'limit', tweak: (c) => { external(c); limitFor('python3-twisted')(c); } },
      { model: 'py-tornado', concurrency: 64, opsPerSec: [5_000], tweak: io('postgres', 6400, cpuPer(110)) },
      { model: 'py-asyncio', concurrency: 64, opsPerSec: [5_200], tweak: io('postgres', 6400, cpuPer(100)) },
    ]));
    const f = find(make(52_000, 19), 'python-framework-cost');
    expect(f.verdict).toBe('holds');
    expect(f.sentence).toBe("Over HTTP, each framework beside its bare design at the same connections: in steady at 64, py-tornado served 52k ops/s at 19 µs of server CPU per request against py-asyncio's 55k ops/s at 18 µs (0.95×, 1.06× the CPU); in steady at 64, py-aiohttp served 50k ops/s at 20 µs of server CPU per request against py-asyncio's 55k ops/s at 18 µs (0.91×, 1.11× the CPU); in io-wait on PostgreSQL at 64, py-tornado served 5.0k ops/s at 110 µs of server CPU per request against py-asyncio's 5.2k ops/s at 100 µs (0.96×, 1.10× the CPU).");
    expect(f.chart).toBe('http-cpu-per-1k-ops.png');
    expect(find(make(20_000, 50), 'python-framework-cost').verdict).toBe('does not hold'); // a third of the throughput, nearly 3× the CPU
    expect(find(make(52_000, 40), 'python-framework-cost').verdict).toBe('does not hold'); // as fast, but at over 1.5× the CPU
    expect(find(make(41_000, 25), 'python-framework-cost').verdict).toBe('no clear difference'); // 0.75×, 1.4× the CPU
  });

  it('a framework: not measured names the framework packages that are missing', () => {
    const r = withSettings(run([
      { model: 'py-tornado', concurrency: 64, opsPerSec: [0], status: 'limit', tweak: (c) => { external(c); limitFor('python3-tornado')(c); } },
      { model: 'py-aiohttp', concurrency: 64, opsPerSec: [0], status: 'limit', tweak: (c) => { external(c); limitFor('python3-aiohttp')(c); } },
      { model: 'py-asyncio', concurrency: 64, opsPerSec: [55_000], tweak: steadyHttp(18) },
    ]));
    const f = find(r, 'python-framework-cost');
    expect(f.verdict).toBe('not measured');
    expect(f.sentence).toBe('Not measured in this run: install python3-aiohttp and python3-tornado (apt-get install python3-aiohttp python3-tornado): py-aiohttp, py-tornado could not run steady.');
  });

  it("a job queue's round trip: holds at 0.8× a local process's throughput, not under 0.5×, with the latency it adds", () => {
    const make = (rqOps: number, rqP50: number) => withSettings(run([
      { model: 'py-rq', concurrency: 4, opsPerSec: [rqOps], tweak: (c) => { cpuCell(180)(c); cpuPer(400)(c); c.latencyUs.p50 = rqP50; c.redis = { cpuPercent: 30, pssPeakBytes: null, threadsPeak: 5, commands: 1, connectionsOpened: 1 }; } },
      { model: 'py-multiprocessing', concurrency: 4, opsPerSec: [6000], tweak: (c) => { cpuCell(160)(c); cpuPer(250)(c); c.latencyUs.p50 = 640; } },
    ]));
    const f = find(make(5000, 780), 'python-job-queue');
    expect(f.verdict).toBe('holds');
    // Redis: 30% of a core over 5 s for 25,000 requests = 60 µs each.
    expect(f.sentence).toBe("With 200 µs of CPU per request at 4 http connections, py-rq (each request a job for its workers through Redis) served 5.0k ops/s at a p50 of 780 µs and 400 µs of server CPU per request, and Redis 60 µs more; py-multiprocessing (the work in the connection's process) served 6.0k ops/s at 640 µs and 250 µs: the round trip added 140 µs per request (0.83× the throughput).");
    expect(f.chart).toBe('http-cpu-throughput-by-model.png');
    expect(find(make(1500, 2600), 'python-job-queue').verdict).toBe('does not hold');
    expect(find(make(4000, 1000), 'python-job-queue').verdict).toBe('no clear difference');
    const missing = withSettings(run([
      { model: 'py-rq', concurrency: 4, opsPerSec: [0], status: 'limit', tweak: (c) => { cpuCell(0)(c); limitFor('python3-rq')(c); } },
      { model: 'py-multiprocessing', concurrency: 4, opsPerSec: [6000], tweak: cpuCell(160) },
    ]));
    expect(find(missing, 'python-job-queue').sentence).toBe('Not measured in this run: install python3-rq (apt-get install python3-rq): py-rq could not run cpu.');
  });

  it('says which Debian package to install when a Python claim could not be measured for one', () => {
    const r = withSettings(run([
      { model: 'py-selectors', concurrency: 64, opsPerSec: [0], status: 'limit', tweak: io('postgres', 6400, limitFor('python3-psycopg2')) },
      { model: 'py-asyncio', concurrency: 64, opsPerSec: [0], status: 'limit', tweak: io('postgres', 6400, limitFor('python3-asyncpg')) },
      { model: 'py-threadpool', concurrency: 64, opsPerSec: [0], status: 'limit', tweak: io('postgres', 400, limitFor('python3-psycopg2')) },
    ]));
    const f = find(r, 'python-psycopg2-async');
    expect(f.verdict).toBe('not measured');
    expect(f.sentence).toBe('Not measured in this run: install python3-asyncpg and python3-psycopg2 (apt-get install python3-asyncpg python3-psycopg2): py-asyncio, py-selectors could not run io-wait.');
    expect(find(r, 'python-threadpool-cap').sentence).toBe('Not measured in this run: install python3-psycopg2 (apt-get install python3-psycopg2): py-threadpool could not run io-wait.');
    expect(find(r, 'python-gil').sentence).toBe('Not measured in this run: needs py-threading or py-threadpool beside py-multiprocessing in the cpu scenario (--suite python --models-file examples/models.json).');
  });
});
