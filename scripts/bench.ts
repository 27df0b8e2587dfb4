// npm run bench: validate the plan, run every cell, then draw the charts and the report.
import { relative } from 'node:path';
import { parsePlan, PlanError, usage } from '../harness/plan.js';
import { killAllGroups } from '../harness/processes.js';
import { writeReport } from '../harness/report.js';
import { runPlan } from '../harness/run.js';

const log = (line: string): void => void process.stderr.write(line + '\n');

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const plan = parsePlan(argv);
  if (plan === null) {
    process.stdout.write(usage());
    return 0;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAllGroups();
      log(`\nbench: interrupted by ${signal}; every cell finished so far is in results/latest/results.json`);
      process.exit(130);
    });
  }
  const command = ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const { runDir, results, failed } = await runPlan(plan, command, log);
  const files = await writeReport(runDir);
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
    process.exit(e instanceof PlanError ? 2 : 1);
  },
);
