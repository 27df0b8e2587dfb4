// npm run report -- <results.json | run folder> [--csv]
// Draws charts, report.md and report.html into the run folder (or, with --csv, cells.csv) and
// prints the paths written. Bad input: one line on stderr and exit status 2.
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cellsToCsv } from '../harness/csv.js';
import { writeFileAtomic } from '../harness/charts.js';
import { writeReport } from '../harness/report.js';
import { readResults, ResultsError } from '../harness/results.js';

const USAGE = 'usage: npm run report -- <results.json | run folder> [--csv]';
const FLAGS = ['--csv', '--help'];

export class UsageError extends Error {
  readonly code = 'EUSAGE';
}

export interface ReportArgs {
  input: string;
  csv: boolean;
  help: boolean;
}

export function parseArgs(argv: readonly string[]): ReportArgs {
  let input: string | undefined;
  let csv = false;
  let help = false;
  for (const arg of argv) {
    if (arg === '--csv') csv = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown flag ${arg}; allowed: ${FLAGS.join(', ')}`);
    else if (input !== undefined) throw new UsageError(`unexpected argument ${arg}: give one results file or run folder`);
    else input = arg;
  }
  if (help) return { input: input ?? '', csv, help };
  if (input === undefined) throw new UsageError(`missing argument: a results.json or a run folder; ${USAGE}`);
  return { input, csv, help };
}

/** Does the work and returns the paths written; throws UsageError or ResultsError on bad input. */
export async function main(argv: readonly string[]): Promise<string[]> {
  const args = parseArgs(argv);
  if (args.help) return [];
  const runDir = args.input.endsWith('.json') ? dirname(args.input) : args.input;
  if (args.csv) {
    const path = join(runDir, 'cells.csv');
    writeFileAtomic(path, cellsToCsv(readResults(args.input)));
    return [path];
  }
  const files = await writeReport(args.input);
  return [...files.charts, files.markdown, files.html];
}

function isEntry(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  const argv = process.argv.slice(2);
  main(argv).then(
    (paths) => {
      if (argv.includes('--help') || argv.includes('-h')) process.stdout.write(`${USAGE}\n`);
      for (const p of paths) process.stdout.write(`${p}\n`);
    },
    (e: unknown) => {
      const bad = e instanceof UsageError || e instanceof ResultsError;
      process.stderr.write(`report: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(bad ? 2 : 1);
    },
  );
}
