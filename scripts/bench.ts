// npm run bench: validate the plan, run every cell, then draw the charts and the report.
import { dirname, relative } from 'node:path';
import { beginMeasuring } from '../harness/entry.js';
import { LockError } from '../harness/guard.js';
import { parsePlan, usage } from '../harness/plan.js';
import { PlanError } from '../schema/flags.js';
import { killAllGroups } from '../harness/processes.js';
import { memoryLines, verdictMark, writeReport } from '../report/report.js';
import { findings } from '../report/findings.js';
import { readMicroNear } from '../schema/read-results.js';
import { runPlan } from '../harness/run.js';

const log = (line: string): void => void process.stderr.write(line + '\n');

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const plan = parsePlan(argv);
  if (plan === null) {
    process.stdout.write(usage());
    return 0;
  }
  let resultsFile: string | null = null;
  const lock = beginMeasuring({
    name: 'bench',
    say: log,
    orphanNote: 'that did not end them',
    interrupted: (signal) => `\nbench: interrupted by ${signal}; ${resultsFile ? `every cell finished so far is in ${resultsFile}` : 'no cell had been measured'}`,
  });
  const command = ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const { runDir, results, failed } = await runPlan(plan, command, log, (file) => {
    resultsFile = file;
    lock.setRunDir(dirname(file));
  });
  const files = await writeReport(runDir);
  log('\nfindings:');
  for (const f of findings(results, readMicroNear(runDir))) {
    log(`  ${verdictMark(f.verdict).padEnd(19)} ${f.question}\n  ${' '.repeat(19)} ${f.sentence}${f.margin ? `\n  ${' '.repeat(19)} margin: ${f.margin}` : ''}${f.caveat ? `\n  ${' '.repeat(19)} caveat: ${f.caveat}` : ''}`);
  }
  const memory = memoryLines(results);
  if (memory.length > 0) log(`\nmemory over the window:\n${memory.map((m) => `  ${m.cell}: ${m.sentence}`).join('\n')}`);
  log(`\nresults: ${relative(process.cwd(), runDir)}/results.json (${results.cells.length} cells)`);
  for (const f of [files.markdown, files.html, ...files.charts]) log(`         ${relative(process.cwd(), f)}`);
  if (failed > 0) {
    log(`bench: ${failed} cell(s) failed; see the Notes in report.md`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error & { code?: string }) => {
    log(`bench: ${e.message}`);
    killAllGroups();
    process.exit(e instanceof PlanError || e instanceof LockError ? 2 : 1);
  },
);
