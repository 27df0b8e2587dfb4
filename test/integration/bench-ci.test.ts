// bench:ci end to end with a tiny plan: against a baseline file, against a git revision, and with a
// bad baseline; then --base-ref as the README and the workflow run it, from a fresh clone of a
// throwaway history whose head slows one model down on purpose.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dist, PROJECT_ROOT } from '../../harness/paths.js';
import type { Comparison } from '../../report/compare.js';
import { readResults } from '../../schema/read-results.js';
import { commitAll, git, gitFreeEnv, patchFile, removeRepositories, repositoryOfWorkingTree } from '../helpers/git-sandbox.js';
import { runWhenUnlocked } from '../helpers/locked-run.js';

const benchCi = dist('scripts/bench-ci.js');
const TINY = ['--scenarios', 'steady', '--models', 'async', '--protocols', 'echo', '--concurrency', '2', '--duration', '0.3s', '--warmup', '0.1s'];

/** How long a run waits while another run on this machine holds the lock (a shared machine's neighbours). */
const LOCK_WAIT_MS = 120_000;

function run(args: string[]) {
  return runWhenUnlocked(benchCi, args, { cwd: PROJECT_ROOT, timeoutMs: 180_000, lockWaitMs: LOCK_WAIT_MS });
}

describe('npm run bench:ci', () => {
  it('compares with a baseline file and puts the comparison in report.md', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ci-e2e-'));
    const first = await run([...TINY, '--repetitions', '2', '--out', out]);
    expect(first.status, first.stderr).toBe(0);
    const baseline = join(out, readlinkSync(join(out, 'latest')), 'results.json');

    const second = await run([...TINY, '--repetitions', '2', '--out', out, '--baseline', baseline]);
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
  }, 2 * LOCK_WAIT_MS + 60_000);

  it('builds a git revision and runs it alternately with this checkout', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ci-ref-'));
    const r = await run([...TINY, '--repetitions', '2', '--out', out, '--base-ref', 'HEAD']);
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
  }, LOCK_WAIT_MS + 60_000);

  it('rejects a baseline that is not JSON with exit 2 before running anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ci-bad-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    const r = await run([...TINY, '--out', dir, '--baseline', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`bench:ci: ${bad} is not JSON`);
    expect(existsSync(join(dir, 'latest'))).toBe(false);
  });

  it('rejects --baseline with --base-ref', async () => {
    const r = await run([...TINY, '--baseline', 'x.json', '--base-ref', 'HEAD']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('bench:ci: --baseline and --base-ref: give one or the other');
  });
});

/**
 * Busy-wait the slowed head adds to every read of the async model, µs. It caps the model at about
 * 330 echo messages/s at one connection, against 3,000 to 12,000 for its base on a shared 2-core VM
 * under its neighbours' load. Less was not enough there: with 300 µs in two runs of eight, and with
 * 1,000 µs in one of fourteen, a neighbour slowed base repetitions to near the head's speed and the
 * interval reached into the band (inconclusive, exit 0).
 */
const SLOW_US = 3000;
// Five repetitions a side is the fewest that can give a verdict (COMPARE_DEFAULTS.minRepetitions).
// The band is wide because each test asserts one verdict on a machine whose neighbours move cells by
// ±30%, and p99 at one connection far more: the slowdown (about -97%) is far outside it either way.
const CLONE_PLAN = ['--scenarios', 'steady', '--protocols', 'echo', '--concurrency', '1', '--duration', '0.5s', '--warmup', '0.2s', '--repetitions', '5', '--threshold', '50'];
/** One bench:ci run takes 20 s (one model) to 35 s (two) here; another run holding the lock may add its own length. */
const RUN_TIMEOUT_MS = 100_000;

describe('npm run bench:ci -- --base-ref, from a fresh clone (README, .github/workflows/bench.yml)', () => {
  let tmp = '';
  let clone: string | null = null;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'ci-clone-'));
    // origin: main holds the code under test; the branch slow adds the regression on top.
    const origin = join(tmp, 'origin');
    repositoryOfWorkingTree(PROJECT_ROOT, origin);
    git(origin, ['checkout', '--quiet', '-b', 'slow']);
    const anchor = "socket.on('data', (chunk: Buffer) => {";
    patchFile(join(origin, 'servers', 'machinery', 'async-serve.ts'), anchor, `${anchor}\n      const spinUntil = process.hrtime.bigint() + ${SLOW_US * 1000}n; // a regression, on purpose\n      while (process.hrtime.bigint() < spinUntil);`);
    commitAll(origin, `async: ${SLOW_US} µs of busy-wait per read`);
    // As actions/checkout leaves it: a clone with origin/main, and no identity configured.
    clone = join(tmp, 'clone');
    git(tmp, ['clone', '--quiet', '--branch', 'slow', origin, clone]);
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(clone, 'node_modules'));
    execFileSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: clone, stdio: 'inherit' }); // npm run -s build
  }, 120_000);

  afterAll(() => removeRepositories(clone, [tmp]));

  /** `npm run bench:ci -- ARGS` after its build: node dist/scripts/bench-ci.js in the clone, with the default --out. */
  async function benchCi(args: string[]) {
    const r = await runWhenUnlocked('dist/scripts/bench-ci.js', args, { cwd: clone!, env: gitFreeEnv(), timeoutMs: RUN_TIMEOUT_MS, lockWaitMs: LOCK_WAIT_MS });
    const latest = join(clone!, 'results', 'latest');
    const runDir = existsSync(latest) ? join(clone!, 'results', readlinkSync(latest)) : null;
    return { ...r, runDir, why: `exit ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr.slice(-4000)}` };
  }

  /** Each cell compared, with its ok repetitions on either side. */
  const sides = (c: Comparison) => c.rows.map((row) => `${row.label}: ${row.throughput.base.n}/${row.throughput.current.n}`).sort();
  const TEST_TIMEOUT_MS = LOCK_WAIT_MS + RUN_TIMEOUT_MS + 10_000;

  it('exits 1 between the slowed head and its base, naming the slowed model a regression', async () => {
    const r = await benchCi(['--base-ref', 'origin/main', '--models', 'async', ...CLONE_PLAN]);
    expect(r.status, r.why).toBe(1);
    expect(r.stdout).toMatch(/^\| async echo steady c=1 \| \*\*regression\*\* \|/m);
    const comparison = JSON.parse(readFileSync(join(r.runDir!, 'comparison.json'), 'utf8')) as Comparison;
    expect(sides(comparison)).toEqual(['async echo steady c=1: 5/5']);
    expect(comparison.rows[0]!.throughput.verdict).toBe('regression');
    expect(readResults(join(r.runDir!, 'base')).command).toContain(`(base ${git(clone!, ['rev-parse', 'origin/main'])})`);
    expect(git(clone!, ['worktree', 'list', '--porcelain']).match(/^worktree /gm)).toHaveLength(1); // the base's is gone
  }, TEST_TIMEOUT_MS);

  it('exits 0 between identical commits, relative paths in its flags meaning the same for the base', async () => {
    // Files only this checkout has (untracked), so the base's worktree has neither: a server run by
    // --server-cmd, and a models file that the plan must read to be valid (its model is not run).
    mkdirSync(join(clone!, 'local-only'));
    copyFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'servers', 'tiny-server.mjs'), join(clone!, 'local-only', 'tiny-server.mjs'));
    const unused = { name: 'tiny-file', command: [process.execPath, 'tiny-server.mjs', '{port}', '{protocol}'], protocols: ['echo'] };
    writeFileSync(join(clone!, 'local-only', 'models.json'), JSON.stringify({ models: [unused] }));
    const r = await benchCi([
      '--base-ref', 'HEAD', '--models', 'async,tiny-cmd', ...CLONE_PLAN,
      '--models-file', join('local-only', 'models.json'),
      '--server-cmd', `tiny-cmd=${process.execPath} ${join('local-only', 'tiny-server.mjs')} {port} {protocol}`,
    ]);
    expect(r.status, r.why).toBe(0);
    const comparison = JSON.parse(readFileSync(join(r.runDir!, 'comparison.json'), 'utf8')) as Comparison;
    // Every cell measured 5 times on both sides: none lost to a file the base's bench looked for in its worktree.
    expect(sides(comparison)).toEqual(['async echo steady c=1: 5/5', 'tiny-cmd echo steady c=1: 5/5']);
    expect(comparison.counts.regression).toBe(0);
  }, TEST_TIMEOUT_MS);
});
