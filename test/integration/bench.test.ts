// `npm run bench` end to end with a tiny plan: the results file, the charts and the report are
// real, bad input starts nothing, and Ctrl-C leaves no process behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImage } from '@napi-rs/canvas';
import { steady } from '../../clients/load.js';
import { describe, expect, it } from 'vitest';
import { dist } from '../../harness/paths.js';
import { tagged } from '../helpers/tagged.js';
import { SCHEMA_VERSION, type Cell } from '../../schema/results.js';
import { readResults } from '../../schema/read-results.js';
import { decodeHistogram, summarizeUs } from '../../clients/latency.js';

const bench = dist('scripts/bench.js');

function expectCellShape(c: Cell): void {
  expect(c.status, `${c.model} ${c.protocol} c=${c.concurrency}: ${c.reason ?? ''}`).toBe('ok');
  expect(c.scenario).toBe('steady');
  expect(c.ops).toBeGreaterThan(0);
  expect(c.opsPerSec).toBeCloseTo(c.ops / c.durationS, 6);
  expect(c.bytesPerSec).toBeGreaterThan(0);
  expect(c.errors).toEqual({ total: 0, byCode: {} });
  const l = c.latencyUs;
  expect(l.p50).toBeGreaterThan(0);
  expect(l.p50).toBeLessThanOrEqual(l.p90);
  expect(l.p90).toBeLessThanOrEqual(l.p99);
  expect(l.p99).toBeLessThanOrEqual(l.p999);
  expect(l.p999).toBeLessThanOrEqual(l.max);
  const s = c.server;
  expect(s.cpuUserS + s.cpuSysS).toBeGreaterThan(0);
  expect(s.cpuPercent).toBeGreaterThan(0);
  expect(s.rssPeakBytes).toBeGreaterThanOrEqual(s.rssMeanBytes);
  expect(s.rssMeanBytes).toBeGreaterThan(10 * 2 ** 20);
  expect(s.threadsPeak).toBeGreaterThanOrEqual(1);
  expect(s.processesPeak).toBe(1);
  expect(s.ctxVoluntary + s.ctxInvoluntary).toBeGreaterThan(0);
  expect(typeof c.client.saturated).toBe('boolean');
  expect(c.client.cpuPercent).toBeGreaterThan(0);
  // One window: the stored CPU seconds are exactly cpuPercent of the cell's durationS, and the
  // sampler's own bracket of it is within a few milliseconds (its lines' travel time).
  expect(((s.cpuPercent / 100) * c.durationS)).toBeCloseTo(s.cpuUserS + s.cpuSysS, 9);
  expect(Math.abs(s.sampledS! - c.durationS)).toBeLessThan(0.1);
  // The stored histogram holds every correct operation and the requests open at the close, and
  // gives back the percentiles in the cell.
  expect(c.client.tool).toBe('native');
  const h = decodeHistogram(c.histograms!.latency);
  expect(h.totalCount).toBe(c.ops + c.outstanding);
  expect(summarizeUs(h, l.max)).toEqual(l);
  expect(c.client.cpuUsPerOp).toBeCloseTo((c.client.cpuPercent / 100) * c.durationS * 1e6 / c.ops, 6);
  expect(c.window!.endMs - c.window!.startMs).toBeCloseTo(c.durationS * 1000, 6);
}

describe('npm run bench', () => {
  it('runs a tiny plan into a results file, charts and a report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
    const args = ['--scenarios', 'steady', '--models', 'async,node-http', '--concurrency', '1,4', '--duration', '0.5s', '--warmup', '0.2s', '--out', out];
    const r = spawnSync(process.execPath, [bench, ...args], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[1\/6\] async echo c=1 rep 1/);

    const runDir = join(out, readlinkSync(join(out, 'latest')));
    const results = readResults(runDir);
    expect(results.schemaVersion).toBe(SCHEMA_VERSION);
    expect(results.finishedAt).not.toBeNull();
    expect(results.command).toContain('--models async,node-http');
    expect(results.env.cpus).toBeGreaterThanOrEqual(1);
    expect(results.env.node).toBe(process.version);
    expect(results.settings).toMatchObject({ durationS: 0.5, warmupS: 0.2, concurrency: [1, 4], repetitions: 1 });
    const keys = results.cells.map((c) => `${c.model}/${c.protocol}/${c.concurrency}`).sort();
    expect(keys).toEqual(['async/echo/1', 'async/echo/4', 'async/http/1', 'async/http/4', 'node-http/http/1', 'node-http/http/4']);
    for (const c of results.cells) expectCellShape(c);
    // Warm-up keeps the 100 ms steps it was judged on: at least --warmup's worth, ending on three steady ones.
    for (const c of results.cells) {
      const w = c.warmup!;
      expect({ stepMs: w.stepMs, enough: w.steps!.length >= 2 }).toEqual({ stepMs: 100, enough: true });
      expect(w.steps!.length * w.stepMs!).toBeLessThanOrEqual(w.s * 1000);
      if (w.settled) expect(steady(w.steps!)).toBe(true);
    }

    const charts = readdirSync(join(runDir, 'charts')).filter((f) => f.endsWith('.png'));
    expect(charts).toEqual(expect.arrayContaining(['echo-throughput.png', 'http-throughput.png', 'echo-latency-p99.png', 'http-rss.png']));
    for (const f of charts) {
      const img = await loadImage(readFileSync(join(runDir, 'charts', f)));
      // async and node-http are both event loops: one panel at the bar charts' width, under its title and notes.
      expect(img.width).toBe(1200);
      expect(img.height).toBeGreaterThanOrEqual(600);
    }
    const md = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(md).toContain('![');
    expect(md).toMatch(/\| async \| 4 \|/);
    expect(existsSync(join(runDir, 'report.html'))).toBe(true);
  });

  it('counts what it can know: a process per connection, and every operation the client saw', () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-ppc-'));
    const r = spawnSync(process.execPath, [bench, '--scenarios', 'steady', '--models', 'process-per-connection', '--protocols', 'echo', '--concurrency', '3', '--duration', '0.5s', '--warmup', '0.2s', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const [c] = readResults(join(out, readlinkSync(join(out, 'latest')))).cells;
    expect(c!.status, c!.reason).toBe('ok');
    expect(c!.server.processesPeak).toBe(4); // the acceptor and one child per connection
    expect(c!.timeline!.ops.reduce((a, b) => a + b, 0)).toBe(c!.ops);
    expect(decodeHistogram(c!.histograms!.latency).totalCount).toBe(c!.ops + c!.outstanding);
  });

  it('rejects bad input with one line and exit 2, starting nothing', () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-bad-'));
    const r = spawnSync(process.execPath, [bench, '--models', 'nope', '--out', out], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^bench: --models: unknown model "nope"; known: async, /);
    expect(readdirSync(out)).toEqual([]);
  });

  it('stops a server tree over the memory budget as a limit cell and carries on', () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-budget-'));
    // Any Node server is above 20 MiB (RSS, and PSS once sampled), so every cell crosses this budget.
    const args = ['--scenarios', 'steady', '--models', 'async', '--protocols', 'echo', '--concurrency', '1,2', '--duration', '0.5s', '--warmup', '0s', '--memory-budget', '20MiB', '--out', out];
    const r = spawnSync(process.execPath, [bench, ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0); // limit is a result, not a failure
    const results = readResults(join(out, readlinkSync(join(out, 'latest'))));
    expect(results.cells.map((c) => c.status)).toEqual(['limit', 'limit']);
    for (const c of results.cells) expect(c.reason).toMatch(/^server tree memory \d+ MiB crossed the memory budget of 20 MiB$/);
  });

  it('ends every process it started when interrupted, keeping the cells already measured', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-int-'));
    const tag = `CB_TEST_TAG=${process.pid}-${Date.now()}`;
    const [k, v] = tag.split('=') as [string, string];
    const child = spawn(process.execPath, [bench, '--scenarios', 'steady', '--models', 'async', '--protocols', 'echo', '--concurrency', '1,2,3', '--duration', '2s', '--warmup', '0s', '--out', out], {
      env: { ...process.env, [k]: v },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (stderr.includes('[2/3]')) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    });
    await new Promise((r) => setTimeout(r, 500)); // the second cell's server and client are running now
    expect(tagged(tag).length).toBeGreaterThanOrEqual(3); // bench, server, client
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(130);
    await new Promise((r) => setTimeout(r, 200));
    expect(tagged(tag)).toEqual([]);
    const results = readResults(join(out, readlinkSync(join(out, 'latest'))));
    expect(results.cells).toHaveLength(1);
    expect(results.cells[0]!.status).toBe('ok');
  });
});
