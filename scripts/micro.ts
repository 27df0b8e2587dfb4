// npm run micro: tinybench over the primitives in micro/tasks.ts. Writes micro.json (the same env
// block as a results file) and prints a table.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { microTasks } from '../micro/tasks.js';
import { choosePinning, collectEnv } from '../harness/env.js';
import { attachValues, parseSeconds, PlanError } from '../schema/flags.js';
import type { MicroResults } from '../schema/results.js';
import { writeJsonAtomic } from '../schema/atomic-write.js';

const FLAGS = { time: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
const USAGE = `Usage: npm run micro -- [--time TIME] [--out DIR]

Measures the primitives the models are built from with tinybench and writes DIR/micro.json.

  --time TIME   time per task, e.g. 500ms (default: 300ms)
  --out DIR     where micro.json goes (default: results)
  -h, --help    this text
`;

const ns = (ms: number | undefined): number | null => (typeof ms === 'number' && Number.isFinite(ms) ? Math.round(ms * 1e6 * 10) / 10 : null);

function format(n: number | null): string {
  if (n === null) return '–';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} ms`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} µs`;
  return `${n.toFixed(0)} ns`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ args: attachValues(process.argv.slice(2), FLAGS), options: FLAGS, strict: true });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const timeS = parseSeconds('--time', values.time ?? '300ms', false);
  const out = join(values.out ?? 'results', 'micro.json');
  const bench = new Bench({ time: timeS * 1000, warmupTime: Math.min(100, timeS * 300), throws: false });
  const tasks = microTasks();
  for (const t of tasks) bench.add(t.name, t.fn, { async: t.async, ...(t.beforeAll ? { beforeAll: t.beforeAll } : {}), ...(t.afterAll ? { afterAll: t.afterAll } : {}) });
  bench.addEventListener('cycle', (e) => process.stderr.write(`  ${(e as unknown as { task: { name: string } }).task.name}\n`));
  process.stderr.write(`micro: ${tasks.length} tasks, about ${timeS} s each\n`);
  await bench.run();
  const results: MicroResults = {
    schemaVersion: 1,
    kind: 'micro',
    startedAt: new Date().toISOString(),
    command: ['npm run micro', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    env: collectEnv(choosePinning(false)),
    timePerTaskS: timeS,
    tasks: bench.tasks.map((task, i) => {
      const r = task.result as { state: string; latency?: { mean: number; p50: number; p99: number; rme: number; samplesCount?: number }; error?: Error };
      const latency = r.latency;
      return {
        name: task.name,
        what: tasks[i]!.what,
        state: r.state,
        meanNs: ns(latency?.mean),
        p50Ns: ns(latency?.p50),
        p99Ns: ns(latency?.p99),
        rmePercent: latency ? Math.round(latency.rme * 10) / 10 : null,
        samples: latency?.samplesCount ?? 0,
        ...(r.error ? { error: r.error.message } : {}),
      };
    }),
  };
  writeJsonAtomic(out, results);
  const lines = ['| primitive | mean | p50 | p99 | ± | what it is |', '|---|--:|--:|--:|--:|---|'];
  for (const t of results.tasks) {
    lines.push(`| ${t.name} | ${t.state === 'completed' ? format(t.meanNs) : t.state} | ${format(t.p50Ns)} | ${format(t.p99Ns)} | ${t.rmePercent ?? '–'}% | ${t.what} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  process.stderr.write(`micro: ${out}\n`);
  return results.tasks.some((t) => t.state === 'errored') ? 1 : 0;
}

// A task whose promise can never settle would let the loop drain and Node exit 0 with no table:
// keep the process alive until main() says how it ended.
const keepAlive = setInterval(() => {}, 1 << 30);
main().then(
  (code) => {
    clearInterval(keepAlive);
    process.exit(code);
  },
  (e: Error & { code?: string }) => {
    process.stderr.write(`micro: ${e.message.split('\n')[0]}\n`);
    process.exit(e instanceof PlanError || e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1);
  },
);
