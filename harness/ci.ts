// The CI entry's machinery: merging single-repetition runs, and building a base revision in a
// temporary git worktree so base and current can run alternately on the same machine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from './paths.js';
import { startGroup } from './processes.js';
import { removeStaleTemps } from './guard.js';
import { parsePlan } from './plan.js';
import { type Results } from '../schema/results.js';
import { readResults } from '../schema/read-results.js';

export class CiError extends Error {
  constructor(
    message: string,
    readonly code: 'EBASEREF' | 'EBASEBUILD' | 'EBASERUN',
  ) {
    super(message);
  }
}

/** The plan bench:ci runs unless told otherwise: a few models, both protocols, two concurrencies, 5 repetitions. */
/**
 * The CI plan: the ci suite (one model per family, every scenario) with 5 repetitions, the fewest
 * compare judges (COMPARE_DEFAULTS.minRepetitions): with fewer every verdict is inconclusive.
 */
export const CI_PLAN = ['--suite', 'ci', '--repetitions', '5'];

/** One results file from runs of one repetition each: run i becomes repetition i. */
export function mergeRepetitions(runs: Results[], runId: string, command: string): Results {
  if (runs.length === 0) throw new Error('mergeRepetitions: no runs');
  const first = runs[0]!;
  return {
    ...first,
    runId,
    command,
    finishedAt: runs.at(-1)!.finishedAt,
    settings: { ...first.settings, repetitions: runs.length },
    cells: runs.flatMap((r, i) => r.cells.map((c) => ({ ...c, repetition: i + 1 }))),
  };
}

function git(args: string[], cwd = PROJECT_ROOT): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export interface BaseCheckout {
  dir: string;
  sha: string;
  remove(): void;
}

/** Checks out `ref` in a temporary worktree and compiles it; node_modules are shared when the lock files match. */
export function buildBase(ref: string, log: (line: string) => void): BaseCheckout {
  let sha: string;
  try {
    sha = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  } catch {
    throw new CiError(`--base-ref: "${ref}" is not a commit in this repository`, 'EBASEREF');
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-base-'));
  rmSync(dir, { recursive: true });
  git(['worktree', 'add', '--detach', dir, sha]);
  const remove = (): void => {
    try {
      git(['worktree', 'remove', '--force', dir]);
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    const sameLock = readFileSync(join(dir, 'package-lock.json'), 'utf8') === readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8');
    if (sameLock) symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'));
    else {
      log(`base ${sha.slice(0, 10)}: dependencies differ, running npm ci in ${dir}`);
      execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    }
    execFileSync(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir, stdio: 'inherit' });
    if (!existsSync(join(dir, 'dist', 'scripts', 'bench.js'))) throw new Error('it has no dist/scripts/bench.js after building');
  } catch (e) {
    remove();
    throw new CiError(`--base-ref ${ref}: cannot build ${sha.slice(0, 10)}: ${(e as Error).message.split('\n')[0]}`, 'EBASEBUILD');
  }
  log(`base ${ref} = ${sha.slice(0, 10)} built in ${dir}`);
  return { dir, sha, remove };
}

let sweptPlanOut = false;

/**
 * Runs one repetition of the plan with the bench of `root` (a checkout with dist/) and reads its
 * results. The bench runs in this process's working directory, not in `root` (the base's is a
 * temporary worktree): a relative path in the plan's flags (--out, --models-file, a --server-cmd
 * program or script) then names for the base the file it names for this checkout, the one the user
 * meant. `out` is made absolute all the same, so that where the results land and where they are
 * read back never depend on a working directory.
 */
export async function runOneRepetition(root: string, planArgs: string[], out: string, what: string): Promise<Results> {
  const outDir = resolve(out);
  // Each bench removes what killed writers left under its own --out (the repetition's folder);
  // bench:ci's own files are under the plan's --out, swept once here.
  if (!sweptPlanOut) {
    sweptPlanOut = true;
    removeStaleTemps(resolve(parsePlan(planArgs)!.out));
  }
  const child = startGroup(process.execPath, [join(root, 'dist', 'scripts', 'bench.js'), ...planArgs, '--repetitions', '1', '--out', outDir], {
    cpus: null,
    cwd: process.cwd(),
    inheritStderr: true,
  });
  const code = await child.exited;
  // Exit 1 means some cell failed: that is data, and the comparison calls it inconclusive.
  if (code !== 0 && code !== 1) throw new CiError(`${what}: bench exited with ${code}; it may not accept this plan's flags`, 'EBASERUN');
  return readResults(join(outDir, readlinkSync(join(outDir, 'latest'))));
}
