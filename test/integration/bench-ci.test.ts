// bench:ci end to end with a tiny plan: against a baseline file, against a git revision, and with a bad baseline.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dist, PROJECT_ROOT } from '../../harness/paths.js';
import { readResults } from '../../report/read-results.js';

const benchCi = dist('scripts/bench-ci.js');
const TINY = ['--scenarios', 'steady', '--models', 'async', '--protocols', 'echo', '--concurrency', '2', '--duration', '0.3s', '--warmup', '0.1s'];

function run(args: string[]) {
  return spawnSync(process.execPath, [benchCi, ...args], { encoding: 'utf8', timeout: 180_000, cwd: PROJECT_ROOT });
}

describe('npm run bench:ci', () => {
  it('compares with a baseline file and puts the comparison in report.md', () => {
    const out = mkdtempSync(join(tmpdir(), 'ci-e2e-'));
    const first = run([...TINY, '--repetitions', '2', '--out', out]);
    expect(first.status, first.stderr).toBe(0);
    const baseline = join(out, readlinkSync(join(out, 'latest')), 'results.json');

    const second = run([...TINY, '--repetitions', '2', '--out', out, '--baseline', baseline]);
    expect(second.status, second.stderr).toBe(0);
    // 2 repetitions a side cannot reach p < 0.05: the honest verdict is inconclusive, and it passes.
    expect(second.stdout).toMatch(/\| async echo steady c=2 \| inconclusive \|/);
    const runDir = join(out, readlinkSync(join(out, 'latest')));
    expect(runDir).not.toBe(join(baseline, '..'));
    const report = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(report).toContain('Comparison with baseline');
    expect(report).toMatch(/\| async echo steady c=2 \|/);
    expect(JSON.parse(readFileSync(join(runDir, 'comparison.json'), 'utf8')).rows).toHaveLength(1);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Comparison with baseline</h2>');
    expect(html).toContain('<td>async echo steady c=2</td>');
  });

  it('builds a git revision and runs it alternately with this checkout', () => {
    const out = mkdtempSync(join(tmpdir(), 'ci-ref-'));
    const r = run([...TINY, '--repetitions', '2', '--out', out, '--base-ref', 'HEAD']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/repetition 1\/2: base[\s\S]*repetition 1\/2: current[\s\S]*repetition 2\/2: current[\s\S]*repetition 2\/2: base/);
    const runDir = join(out, readlinkSync(join(out, 'latest')));
    const current = readResults(runDir);
    const base = readResults(join(runDir, 'base'));
    expect(current.cells.map((c) => c.repetition)).toEqual([1, 2]);
    expect(base.cells.map((c) => c.repetition)).toEqual([1, 2]);
    expect(base.command).toContain('(base ');
    expect(existsSync(join(runDir, '.reps'))).toBe(false);
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toContain('Comparison with baseline');
  });

  it('rejects a baseline that is not JSON with exit 2 before running anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ci-bad-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    const r = run([...TINY, '--out', dir, '--baseline', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`bench:ci: ${bad} is not JSON`);
    expect(existsSync(join(dir, 'latest'))).toBe(false);
  });

  it('rejects --baseline with --base-ref', () => {
    const r = run([...TINY, '--baseline', 'x.json', '--base-ref', 'HEAD']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('bench:ci: --baseline and --base-ref: give one or the other');
  });
});
