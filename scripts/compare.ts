// npm run compare -- BASE CURRENT [--threshold 10] [--strict] [--json FILE] [--markdown FILE]
// Exit status: 0 pass (or inconclusive without --strict), 1 regression (or inconclusive with --strict),
// 2 bad input or flags, 3 an unexpected internal error. The only place in the comparison that exits.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { COMPARE_DEFAULTS, compareResults } from '../report/compare.js';
import { comparisonMarkdown } from '../report/compare-report.js';
import { writeJsonAtomic } from '../schema/atomic-write.js';
import { readResults } from '../schema/read-results.js';

const USAGE =
  'usage: npm run compare -- BASE CURRENT [--threshold PERCENT] [--strict] [--json FILE] [--markdown FILE]\n' +
  '  BASE, CURRENT   a results.json file or a run folder that holds one\n' +
  `  --threshold     noise band in percent, 0 <= T < 100 (default ${COMPARE_DEFAULTS.threshold * 100})\n` +
  '  --strict        fail (exit 1) when any cell is inconclusive, not only on a regression\n' +
  '  --json FILE     also write the comparison as JSON\n' +
  '  --markdown FILE also write the Markdown table (e.g. $GITHUB_STEP_SUMMARY)\n';

class UsageError extends Error {
  readonly code = 'EUSAGE';
}

interface CliArgs {
  base: string;
  current: string;
  /** Percent, as typed. */
  thresholdPct: number;
  strict: boolean;
  json: string | null;
  markdown: string | null;
  help: boolean;
}

/** Flags that take a value, with what that value must be (for the error when it is missing). */
const VALUE_FLAGS: Record<string, string> = {
  '--threshold': 'a number between 0 and 100 (percent)',
  '--json': 'a file path',
  '--markdown': 'a file path',
};
const KNOWN_FLAGS = [...Object.keys(VALUE_FLAGS), '--strict', '--help'];

function parseArgs(argv: readonly string[]): CliArgs {
  const values = new Map<string, string>();
  const positional: string[] = [];
  let strict = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [flag, inline] = splitFlag(arg);
    if (flag === '--strict' && inline === undefined) strict = true;
    else if (flag === '--help' && inline === undefined) help = true;
    else if (flag in VALUE_FLAGS) {
      const next = inline === undefined && !argv[i + 1]?.startsWith('--') ? argv[++i] : undefined;
      const value = inline ?? next;
      if (value === undefined || value === '') throw new UsageError(`${flag} needs a value: ${VALUE_FLAGS[flag]}`);
      values.set(flag, value);
    } else throw new UsageError(`unknown flag "${arg}"; known: ${KNOWN_FLAGS.join(', ')}`);
  }
  if (help) return { base: '', current: '', thresholdPct: 0, strict, json: null, markdown: null, help };
  if (positional.length !== 2) {
    throw new UsageError(`expected two paths, BASE and CURRENT (results files or run folders), got ${positional.length}`);
  }
  return {
    base: positional[0]!,
    current: positional[1]!,
    thresholdPct: parseThreshold(values.get('--threshold')),
    strict,
    json: values.get('--json') ?? null,
    markdown: values.get('--markdown') ?? null,
    help,
  };
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return eq < 0 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)];
}

function parseThreshold(raw: string | undefined): number {
  if (raw === undefined) return COMPARE_DEFAULTS.threshold * 100;
  const t = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(t) || t < 0 || t >= 100) {
    throw new UsageError(`--threshold must be a number between 0 and 100 (percent), got "${raw}"`);
  }
  return t;
}

function writeOutput(flag: string, path: string, write: () => void): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    write();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new UsageError(`cannot write ${flag} file ${path}: ${code}`);
  }
}

/** Runs the comparison and returns the exit status; throws coded errors for bad input. */
function main(argv: readonly string[]): number {
  const args = parseArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const base = readResults(args.base);
  const current = readResults(args.current);
  const comparison = compareResults(base, current, { threshold: args.thresholdPct / 100, strict: args.strict });
  const markdown = comparisonMarkdown(comparison);
  for (const w of comparison.warnings) process.stderr.write(`compare: warning: ${w}\n`);
  process.stdout.write(markdown);
  if (args.json) writeOutput('--json', args.json, () => writeJsonAtomic(args.json!, comparison));
  if (args.markdown) writeOutput('--markdown', args.markdown, () => writeFileSync(args.markdown!, markdown));
  return comparison.exitCode;
}

function run(): void {
  let status: number;
  try {
    status = main(process.argv.slice(2));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && ['EUSAGE', 'EBADRESULTS', 'ENOCOMMONCELLS', 'EBADOPTION'].includes(code)) {
      process.stderr.write(`compare: ${(e as Error).message}\n`);
      status = 2;
    } else {
      process.stderr.write(`compare: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      status = 3;
    }
  }
  // exitCode rather than exit(): lets a piped stdout drain before the process ends
  process.exitCode = status;
}

run();
