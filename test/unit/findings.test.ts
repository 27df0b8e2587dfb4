import { describe, expect, it } from 'vitest';
import { findings, type Finding } from '../../report/findings.js';
import { renderMarkdown } from '../../report/report.js';
import type { Cell, Results } from '../../harness/results.js';
import { buildResults, type CellSpec } from '../helpers/results-builder.js';

const MiB = 2 ** 20;
const find = (r: Results, id: string): Finding => findings(r).find((f) => f.id === id)!;

/** Results whose cells get `tweak(cell)` applied after building (server figures, scenario...). */
function run(specs: (CellSpec & { tweak?: (c: Cell) => void })[]): Results {
  const r = buildResults(specs);
  let k = 0;
  for (const s of specs) for (let i = 0; i < s.opsPerSec.length; i++) s.tweak?.(r.cells[k++]!);
  return r;
}

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
    expect(f.sentence).toBe('Memory (PSS) added per echo connection, from the fewest to the most connections each served: epoll 2 KiB (1 to 256); thread-per-connection 9,216 KiB (1 to 256).');
    expect(f.chart).toBe('echo-pss.png');
  });

  it('busy-poll: holds when it burns a core for no more work, not when CPU and work rise together', () => {
    const cpu = (pct: number) => (c: Cell) => {
      c.server.cpuPercent = pct;
      c.server.cpuUserS = (pct / 100) * c.durationS;
      c.server.cpuSysS = 0;
    };
    const make = (busyOps: number) => run([
      { model: 'busy-poll', concurrency: 1, opsPerSec: [busyOps], tweak: cpu(99) },
      { model: 'epoll', concurrency: 1, opsPerSec: [30_000], tweak: cpu(40) },
    ]);
    expect(find(make(31_000), 'busy-poll-cpu').verdict).toBe('holds');
    expect(find(make(90_000), 'busy-poll-cpu').verdict).toBe('does not hold');
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

  it('pool caps: holds when a pool was asked for more connections than workers', () => {
    const r = run([{ model: 'thread-pool', concurrency: 16, opsPerSec: [0], status: 'limit' }]);
    r.cells[0]!.reason = 'thread-pool serves at most 2 connections at once (--workers 2): 14 of 16 would only wait; not run';
    expect(find(r, 'pool-caps').verdict).toBe('holds');
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

  it('opens report.md, before the machine and the tables', () => {
    const md = renderMarkdown(run([{ model: 'epoll', opsPerSec: [1] }]), []);
    expect(md.indexOf('## Findings')).toBeGreaterThan(0);
    expect(md.indexOf('## Findings')).toBeLessThan(md.indexOf('## Machine'));
    expect(md).toContain('- **Does an event loop win when requests wait on I/O (a database)?** not measured: Not measured in this run: needs the io-wait scenario');
  });
});
