// npm run report -- <results.json | run folder> [--csv] [--timeline model/protocol/concurrency[/rep]]
// Draws charts, report.md and report.html into the run folder (or, with --csv, cells.csv; with
// --timeline, one cell's window over time) and prints the paths written. Bad input: one line on
// stderr and exit status 2.
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cellsToCsv } from '../report/csv.js';
import type { ChartConfiguration } from 'chart.js';
import { renderConfigPng } from '../report/chart-render.js';
import { writeFileAtomic } from '../schema/atomic-write.js';
import { findTimelineCell, timelineConfig, timelineFile, TimelineError } from '../report/timeline-chart.js';
import { writeReport } from '../report/report.js';
import { readResults, ResultsError } from '../schema/read-results.js';

const USAGE = `usage: npm run report -- <results.json | run folder> [--csv] [--timeline model/protocol/concurrency[/repetition]]
  --csv        cells.csv: one row per cell and repetition
  --timeline   charts/timeline-*.png: one cell's ops/s and p99 latency through its window`;
const FLAGS = ['--csv', '--timeline', '--help'];

export class UsageError extends Error {
  readonly code = 'EUSAGE';
}

export interface ReportArgs {
  input: string;
  csv: boolean;
  help: boolean;
  /** `model/protocol/concurrency[/repetition]`: draw that cell's timeline. */
  timeline?: string;
}

export function parseArgs(argv: readonly string[]): ReportArgs {
  let input: string | undefined;
  let csv = false;
  let help = false;
  let timeline: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--timeline') {
      timeline = argv[++i];
      if (timeline === undefined || !/^[^/]+\/(echo|http)\/\d+(\/\d+)?$/.test(timeline)) {
        throw new UsageError(`--timeline: expected model/protocol/concurrency[/repetition], e.g. epoll/http/64, got "${timeline ?? ''}"`);
      }
    } else if (arg === '--csv') csv = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown flag ${arg}; allowed: ${FLAGS.join(', ')}`);
    else if (input !== undefined) throw new UsageError(`unexpected argument ${arg}: give one results file or run folder`);
    else input = arg;
  }
  if (help) return { input: input ?? '', csv, help };
  if (input === undefined) throw new UsageError(`missing argument: a results.json or a run folder; ${USAGE.split('\n')[0]}`);
  return { input, csv, help, ...(timeline ? { timeline } : {}) };
}

/** Does the work and returns the paths written; throws UsageError or ResultsError on bad input. */
export async function main(argv: readonly string[]): Promise<string[]> {
  const args = parseArgs(argv);
  if (args.help) return [];
  const runDir = args.input.endsWith('.json') ? dirname(args.input) : args.input;
  if (args.timeline) {
    const results = readResults(args.input);
    const cell = findTimelineCell(results, args.timeline);
    const path = join(runDir, 'charts', timelineFile(cell));
    writeFileAtomic(path, renderConfigPng(timelineConfig(results, cell) as unknown as ChartConfiguration));
    return [path];
  }
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
      const bad = e instanceof UsageError || e instanceof ResultsError || e instanceof TimelineError;
      process.stderr.write(`report: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(bad ? 2 : 1);
    },
  );
}
