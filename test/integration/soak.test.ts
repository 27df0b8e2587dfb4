// The soak suite, for real: one long cell whose timeline carries the server's memory, and a report
// that tells a leak from a plateau. A server made to leak (2 KiB kept per request) must be called
// "grew"; epoll, which allocates nothing per request, "no growth".
import { existsSync, mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dist, PROJECT_ROOT } from '../../harness/paths.js';
import { readResults } from '../../schema/read-results.js';
import { memoryTrend } from '../../report/memory.js';
import { timelineFile } from '../../report/timeline-chart.js';
import { runWhenUnlocked } from '../helpers/locked-run.js';

const TINY = join(PROJECT_ROOT, 'test', 'fixtures', 'servers', 'tiny-server.mjs');

async function soak(args: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'soak-'));
  const r = await runWhenUnlocked(dist('scripts/bench.js'), ['--suite', 'soak', '--duration', '6s', '--warmup', '1s', ...args, '--out', out], { cwd: PROJECT_ROOT, timeoutMs: 120_000, lockWaitMs: 10 * 60_000 });
  const runDir = join(out, readlinkSync(join(out, 'latest')));
  return { ...r, runDir, results: readResults(runDir) };
}

describe('soak', () => {
  it('finds the leak of a server that keeps 2 KiB per request, and says so in the terminal, report.md and a timeline chart', async () => {
    const r = await soak(['--server-cmd', `leaky=${process.execPath} ${TINY} {port} {protocol} leak`, '--models', 'leaky']);
    expect(r.status, r.stderr).toBe(0);
    const [cell] = r.results.cells;
    expect(r.results.cells).toHaveLength(1);
    expect(cell).toMatchObject({ model: 'leaky', protocol: 'http', concurrency: 64, scenario: 'steady', status: 'ok' });
    expect(cell!.timeline!.pssBytes!.filter((b) => b !== null).length).toBeGreaterThanOrEqual(5);
    const trend = memoryTrend(cell!);
    expect(trend.verdict, trend.sentence).toBe('grew');
    // What it grew by is what it kept: 2 KiB for each request served in the window, give or take the heap's own.
    const kept = (cell!.ops * 2048) / 1048576;
    expect((trend.lastBytes - trend.firstBytes) / 1048576).toBeGreaterThan(kept * 0.5);
    expect(r.stderr).toContain(`memory over the window:\n  leaky http, 64 connections, repetition 1: ${trend.sentence}`);
    const md = readFileSync(join(r.runDir, 'report.md'), 'utf8');
    expect(md).toContain('## Memory over the window');
    expect(md).toContain(`- **leaky http, 64 connections, repetition 1**: ${trend.sentence}`);
    expect(existsSync(join(r.runDir, 'charts', timelineFile(cell!)))).toBe(true);
  }, 180_000);

  it('finds no growth in epoll', async () => {
    const r = await soak(['--models', 'epoll']);
    expect(r.status, r.stderr).toBe(0);
    const trend = memoryTrend(r.results.cells[0]!);
    expect(trend.verdict, trend.sentence).toBe('no growth');
    expect(r.stderr).toContain('no growth');
  }, 180_000);
});
