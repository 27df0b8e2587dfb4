// npm run bench:ci: the CI entry. A small fixed plan (any bench flag overrides it), compared with
// --baseline FILE or with a base revision run alternately on this machine (--base-ref REF).
import { rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildBase, CI_PLAN, CiError, mergeRepetitions, runOneRepetition } from '../harness/ci.js';
import { CompareError, compareResults, type Comparison } from '../report/compare.js';
import { comparisonHtml, comparisonMarkdown } from '../report/compare-report.js';
import { PROJECT_ROOT } from '../harness/paths.js';
import { parsePlan } from '../harness/plan.js';
import { PlanError } from '../schema/flags.js';
import { killAllGroups } from '../harness/processes.js';
import { writeReport } from '../report/report.js';
import type { Results } from '../schema/results.js';
import { writeJsonAtomic } from '../schema/atomic-write.js';
import { readResults, ResultsError } from '../schema/read-results.js';
import { newRunId, pointLatest, runPlan } from '../harness/run.js';
import { beginMeasuring } from '../harness/entry.js';
import { LockError } from '../harness/guard.js';

const log = (line: string): void => void process.stderr.write(line + '\n');

const USAGE = `Usage: npm run bench:ci -- [--baseline FILE | --base-ref GIT_REF] [--threshold PERCENT] [--strict] [bench flags]

Runs the CI plan (${CI_PLAN.join(' ')}); any bench flag after it overrides.
  --baseline FILE   compare with a results file (or run folder) measured earlier
  --base-ref REF    build REF in a temporary git worktree and run it and this checkout
                    alternately, repetition by repetition, on this machine (the reliable way)
  --threshold P     noise band in percent (default 10)
  --strict          exit 1 when a cell is inconclusive, not only on a regression
Writes results/<run-id>/ with results.json, report.md (with the comparison), comparison.json.
Exit status: 0 pass or inconclusive, 1 regression (or failed cells with no comparison), 2 bad input.
`;

interface CiArgs {
  baseline: string | null;
  baseRef: string | null;
  thresholdPct: number;
  strict: boolean;
  benchArgs: string[];
}

function parseCiArgs(argv: string[]): CiArgs | null {
  const a: CiArgs = { baseline: null, baseRef: null, thresholdPct: 10, strict: false, benchArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new PlanError(`${arg}: needs a value (see --help)`);
      return v;
    };
    if (arg === '--help' || arg === '-h') return null;
    else if (arg === '--baseline') a.baseline = value();
    else if (arg === '--base-ref') a.baseRef = value();
    else if (arg === '--strict') a.strict = true;
    else if (arg === '--threshold') {
      const raw = value();
      a.thresholdPct = Number(raw);
      if (!/^\d+(\.\d+)?$/.test(raw) || a.thresholdPct >= 100) throw new PlanError(`--threshold: must be a number from 0 to below 100 (percent), got "${raw}"`);
    } else a.benchArgs.push(arg);
  }
  if (a.baseline && a.baseRef) throw new PlanError('--baseline and --base-ref: give one or the other');
  return a;
}

async function main(): Promise<number> {
  const args = parseCiArgs(process.argv.slice(2));
  if (args === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  const planArgs = [...CI_PLAN, ...args.benchArgs];
  const plan = parsePlan(planArgs)!; // validates every flag before anything starts
  const baseline = args.baseline ? readResults(args.baseline) : null;
  const command = ['npm run bench:ci --', ...process.argv.slice(2)].join(' ');
  // The runs it starts share its lock (LOCK_ENV).
  beginMeasuring({ name: 'bench:ci', say: log, interrupted: (signal) => `\nbench:ci: interrupted by ${signal}` });
  let current: Results;
  let base: Results | null = baseline;
  let runDir: string;
  if (args.baseRef) {
    ({ current, base, runDir } = await alternate(args.baseRef, planArgs, plan.repetitions, plan.out, command));
  } else {
    const outcome = await runPlan(plan, command, log);
    ({ results: current, runDir } = outcome);
  }
  const comparison = base ? compareResults(base, current, { threshold: args.thresholdPct / 100, strict: args.strict }) : null;
  const markdown = comparison ? comparisonMarkdown(comparison) : undefined;
  if (comparison) {
    writeJsonAtomic(join(runDir, 'comparison.json'), comparison);
    writeFileSync(join(runDir, 'comparison.md'), markdown!);
    process.stdout.write(markdown!);
  }
  const files = await writeReport(runDir, comparison ? { comparisonMarkdown: markdown!, comparisonHtml: comparisonHtml(comparison) } : {});
  log(`\nreport: ${relative(process.cwd(), files.markdown)}`);
  return exitCode(comparison, current);
}

function exitCode(comparison: Comparison | null, current: Results): number {
  if (comparison) return comparison.exitCode;
  return current.cells.some((c) => c.status === 'failed') ? 1 : 0;
}

/** Base and current, one repetition each in turn (the order flips every repetition), merged into two results files. */
async function alternate(ref: string, planArgs: string[], repetitions: number, out: string, command: string) {
  const checkout = buildBase(ref, log);
  const runId = newRunId();
  const runDir = join(out, runId);
  try {
    const bases: Results[] = [];
    const currents: Results[] = [];
    for (let rep = 1; rep <= repetitions; rep++) {
      const order = rep % 2 === 1 ? (['base', 'current'] as const) : (['current', 'base'] as const);
      for (const side of order) {
        log(`\n=== repetition ${rep}/${repetitions}: ${side} (${side === 'base' ? checkout.sha.slice(0, 10) : 'this checkout'})`);
        const root = side === 'base' ? checkout.dir : PROJECT_ROOT;
        const r = await runOneRepetition(root, planArgs, join(runDir, '.reps', `${side}-${rep}`), `${side} repetition ${rep}`);
        (side === 'base' ? bases : currents).push(r);
      }
    }
    const base = mergeRepetitions(bases, `${runId}-base`, `${command} (base ${checkout.sha})`);
    const current = mergeRepetitions(currents, runId, command);
    writeJsonAtomic(join(runDir, 'base', 'results.json'), base);
    writeJsonAtomic(join(runDir, 'results.json'), current);
    rmSync(join(runDir, '.reps'), { recursive: true, force: true }); // merged above; the per-repetition runs are copies
    pointLatest(out, runId);
    return { base, current, runDir };
  } finally {
    checkout.remove();
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    killAllGroups();
    log(`bench:ci: ${e.message}`);
    const bad = e instanceof PlanError || e instanceof ResultsError || e instanceof CiError || e instanceof CompareError || e instanceof LockError;
    process.exit(bad ? 2 : 1);
  },
);
