#!/usr/bin/env node
// concurrency-bench COMMAND [flags]: the package's one command, for use from another project
// (npx concurrency-bench load --target …). Each command is the entry that its npm script runs, in
// this process: the same flags, output and exit codes.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Command → the compiled entry (under dist/) and what it does, for --help. */
export const COMMANDS: Record<string, { entry: string; what: string }> = {
  bench: { entry: 'scripts/bench.js', what: 'run a plan of models × scenarios × concurrencies, write results, charts and reports (npm run bench)' },
  load: { entry: 'clients/main.js', what: 'drive one server on this machine and print throughput, latency and errors (npm run load)' },
  server: { entry: 'servers/main.js', what: 'start one model on a port and print its listening line (npm run server)' },
  report: { entry: 'scripts/report.js', what: 'redraw the charts and reports of a run, or its CSV or one cell\'s timeline (npm run report)' },
  compare: { entry: 'scripts/compare.js', what: 'compare two results files cell by cell, with a verdict against noise (npm run compare)' },
  ci: { entry: 'scripts/bench-ci.js', what: 'the CI gate: the ci suite against a baseline file or a base git revision (npm run bench:ci)' },
  micro: { entry: 'scripts/micro.js', what: 'time the primitives the models are built from (npm run micro)' },
  clients: { entry: 'scripts/bench-clients.js', what: 'compare our load generator with wrk and a C echo client (npm run bench:clients)' },
};

export const USAGE = `Usage: concurrency-bench COMMAND [flags]   (concurrency-bench COMMAND --help for its flags)

${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.what}`).join('\n')}`;

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  (command === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
  process.exit(command === undefined ? 2 : 0);
}
const c = COMMANDS[command];
if (!c) {
  process.stderr.write(`concurrency-bench: unknown command "${command}"; known: ${Object.keys(COMMANDS).join(', ')}\n`);
  process.exit(2);
}
// The entry reads its flags from process.argv, and checks argv[1] to know it is the entry.
const entry = join(DIST, c.entry);
process.argv = [process.argv[0]!, entry, ...rest];
await import(pathToFileURL(entry).href);
