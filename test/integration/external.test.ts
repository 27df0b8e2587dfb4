// External models: a program we did not build, through the whole pipeline, and every way it can
// fail before serving recorded as a cell with its reason while the run goes on.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../clients/latency.js';
import { dist, PROJECT_ROOT } from '../../harness/paths.js';
import { readResults } from '../../schema/read-results.js';
import { CONTRACT_VARIABLES } from '../../harness/external.js';
import { waitForRunLock } from '../helpers/run-lock.js';

const TINY = join(PROJECT_ROOT, 'test', 'fixtures', 'servers', 'tiny-server.mjs');
const CONTRACT = join(PROJECT_ROOT, 'test', 'fixtures', 'servers', 'contract-server.mjs');
/** A test that starts a bench may first wait for another run to give up the machine's run lock. */
const LOCKED_TIMEOUT_MS = 12 * 60_000;

/** A bench of its own, started again while another run holds the machine's run lock. */
async function bench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stderr: string; out: string }> {
  const out = mkdtempSync(join(tmpdir(), 'external-'));
  for (;;) {
    const r = spawnSync(process.execPath, [dist('scripts/bench.js'), ...args, '--out', out], { encoding: 'utf8', timeout: 180_000, env });
    if (!(r.status === 2 && r.stderr.includes('another run is going on this machine'))) return { status: r.status, stderr: r.stderr, out };
    await waitForRunLock();
  }
}

const latest = (out: string) => readResults(join(out, readlinkSync(join(out, 'latest'))));

describe('external models', () => {
  it('measures a program given by --server-cmd like a built-in model: verified, loaded, sampled, stopped', async () => {
    const r = await bench(['--server-cmd', `tiny=${process.execPath} ${TINY} {port} {protocol}`, '--models', 'tiny', '--scenarios', 'steady', '--concurrency', '1,4', '--duration', '0.5s', '--warmup', '0.2s']);
    expect(r.status, r.stderr).toBe(0);
    const results = latest(r.out);
    expect(results.settings.externalModels).toEqual([{ name: 'tiny', family: 'external', command: [process.execPath, TINY, '{port}', '{protocol}'], protocols: ['echo', 'http'], shell: false, version: null }]);
    expect(results.cells.map((c) => `${c.protocol}/${c.concurrency}/${c.status}`)).toEqual(['echo/1/ok', 'echo/4/ok', 'http/1/ok', 'http/4/ok']);
    for (const c of results.cells) {
      expect(c.family).toBe('external');
      expect(c.server.processesPeak).toBe(1);
      expect(c.server.cpuUserS + c.server.cpuSysS).toBeGreaterThan(0);
      expect(c.errors.total).toBe(0);
      expect(c.timeline!.ops.reduce((a, b) => a + b, 0)).toBe(c.ops);
      expect(decodeHistogram(c.histograms!.latency).totalCount).toBe(c.ops + c.outstanding);
    }
    const md = readFileSync(join(r.out, readlinkSync(join(r.out, 'latest')), 'report.md'), 'utf8');
    expect(md).toMatch(/\| tiny \(external\) \| 4 \| [\d,]+ \|/);
    expect(md).toContain(`**External model tiny**: ${process.execPath} ${TINY} {port} {protocol}`);
  }, LOCKED_TIMEOUT_MS);

  it('records each way a program can fail before serving as a cell with its reason, and goes on', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'models-')), 'models.json');
    const tiny = (name: string, mode: string, extra: object = {}) => ({ name, command: [process.execPath, TINY, '{port}', '{protocol}', mode], protocols: ['http'], ...extra });
    writeFileSync(file, JSON.stringify({
      models: [
        { name: 'ghost', command: ['/nonexistent/server', '{port}'], protocols: ['http'] },
        { name: 'no-module', command: ['python3', '-c', 'pass', '{port}'], requires: [{ python: 'no_such_module_xyz', package: 'python3-nosuch' }] },
        tiny('quits', 'exit'),
        tiny('silent', 'never', { readyTimeoutS: 1 }),
        tiny('wrong', 'wrong'),
        tiny('fine', 'ok'),
      ],
    }));
    const r = await bench(['--models-file', file, '--scenarios', 'steady', '--protocols', 'http', '--concurrency', '2', '--duration', '0.3s', '--warmup', '0s']);
    expect(r.status, r.stderr).toBe(1); // some cells failed
    const cells = Object.fromEntries(latest(r.out).cells.map((c) => [c.model, c]));
    expect(cells.ghost!.status).toBe('limit');
    expect(cells.ghost!.reason).toBe('ghost needs /nonexistent/server, which is not on PATH (Debian package: /nonexistent/server)');
    expect(cells['no-module']!.status).toBe('limit');
    expect(cells['no-module']!.reason).toBe('no-module needs the Python module no_such_module_xyz, which python3 cannot import (Debian package: python3-nosuch)');
    expect(cells.quits!.status).toBe('failed');
    expect(cells.quits!.reason).toBe('quits exited (3) before it was ready; stderr: tiny-server: cannot start (as asked)');
    expect(cells.silent!.status).toBe('failed');
    expect(cells.silent!.reason).toMatch(/^silent did not become ready \(port \d+ refused connections\) within 1000 ms/);
    expect(cells.wrong!.status).toBe('failed');
    expect(cells.wrong!.reason).toBe('verify http: GET / (keep-alive): expected body "Hello, World!", got "Hello, WÃ¶rld"'); // 13 bytes of a 14-byte UTF-8 body: its Content-Length is short
    for (const name of ['ghost', 'no-module', 'quits', 'silent', 'wrong']) expect(cells[name]!.ops, name).toBe(0); // no load sent
    expect(cells.fine!.status).toBe('ok');
  }, LOCKED_TIMEOUT_MS);

  it('refuses a bad models file or --server-cmd with one line and exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'models-bad-'));
    const write = (name: string, data: unknown): string => {
      const f = join(dir, name);
      writeFileSync(f, typeof data === 'string' ? data : JSON.stringify(data));
      return f;
    };
    const cases: [string[], string][] = [
      [['--models-file', join(dir, 'missing.json')], `bench: --models-file: cannot read ${join(dir, 'missing.json')}: ENOENT\n`],
      [['--models-file', write('a.json', '{')], `bench: --models-file: cannot read ${join(dir, 'a.json')}: not JSON\n`],
      [['--models-file', write('b.json', { models: [{ name: 'x', command: ['srv'] }] })], `bench: --models-file: ${join(dir, 'b.json')}: model 1 ("x"): the command must take the port as {port}\n`],
      [['--models-file', write('c.json', { models: [{ name: 'epoll', command: ['srv', '{port}'] }] })], `bench: --models-file: ${join(dir, 'c.json')}: model 1 ("epoll"): the name is already taken\n`],
      [['--models-file', write('d.json', { models: [{ name: 'x', command: 'srv {port}' }] })], `bench: --models-file: ${join(dir, 'd.json')}: model 1 ("x"): a command given as one string needs "shell": true; otherwise give a list\n`],
      [['--models-file', write('e.json', { models: [{ name: 'x', command: ['srv', '{port}'], scenarios: ['steady', 'nope'] }] })], `bench: --models-file: ${join(dir, 'e.json')}: model 1 ("x"): "scenarios" must list steady, idle, io-wait, cpu, churn, payload\n`],
      [['--models-file', write('f.json', { models: [{ name: 'x', command: ['srv', '{port}'], waits: 'threads' }] })], `bench: --models-file: ${join(dir, 'f.json')}: model 1 ("x"): "waits" must be pool, connections, workers\n`],
      [['--models-file', write('g.json', { models: [{ name: 'x', command: ['srv', '{port}'], cpuLanes: 2 }] })], `bench: --models-file: ${join(dir, 'g.json')}: model 1 ("x"): "cpuLanes" must be one, workers, connections\n`],
      [['--models-file', write('h.json', { models: [{ name: 'x', command: ['srv', '{port}'], requires: [{ python: 'm', package: 'p', scenarios: 'cpu' }] }] })], `bench: --models-file: ${join(dir, 'h.json')}: model 1 ("x"): a requirement's "scenarios" must list steady, idle, io-wait, cpu, churn, payload\n`],
      [['--server-cmd', 'noport=./srv'], 'bench: --server-cmd: the command of "noport" must take the port as {port}\n'],
      [['--server-cmd', 'epoll=./srv {port}'], 'bench: --server-cmd: "epoll" is a built-in model; choose another name\n'],
    ];
    for (const [args, message] of cases) {
      const r = await bench(args);
      expect(r.stderr, args.join(' ')).toBe(message);
      expect(r.status).toBe(2);
    }
  });

  it('tells a program its cell through the scenario contract: the database, the service, the CPU work; an undeclared scenario is a limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'contract-'));
    const log = join(dir, 'log');
    spawnSync('mkdir', [log]);
    const file = join(dir, 'models.json');
    const entry = (name: string, scenarios: string[] | undefined, extra: object = {}) => ({
      name, command: [process.execPath, CONTRACT, '{port}'], env: { CONTRACT_LOG: log }, ...(scenarios ? { scenarios } : {}), ...extra,
    });
    writeFileSync(file, JSON.stringify({
      models: [
        entry('told', ['steady', 'io-wait', 'cpu'], { waits: 'workers', cpuLanes: 'one' }),
        entry('nocpu', ['steady', 'io-wait']),
        entry('plain', undefined),
        entry('nocal', ['cpu'], { command: [process.execPath, CONTRACT, '{port}', 'nocalibration'] }),
        entry('needs', ['steady', 'io-wait'], { requires: [{ python: 'no_such_module_xyz', package: 'python3-nosuch', scenarios: ['io-wait'] }] }),
      ],
    }));
    // A stale contract variable in the harness's own environment never reaches a program.
    const r = await bench(['--models-file', file, '--models', 'told,nocpu,plain,nocal,needs', '--scenarios', 'steady,io-wait,cpu', '--protocols', 'http', '--concurrency', '2', '--backend', 'postgres,service',
      '--backend-connections', 'pooled', '--db-pool', '2', '--workers', '3', '--work-us', '150', '--duration', '0.3s', '--warmup', '0s'], { ...process.env, CB_PG_PASSWORD_FILE: '/stale', CB_WORK_US: '9' });
    expect(r.status, r.stderr).toBe(1); // nocal failed
    const results = latest(r.out);
    const cell = (model: string, scenario: string, backend?: string) => results.cells.find((c) => c.model === model && c.scenario === scenario && (backend === undefined || c.backend === backend))!;
    for (const [m, s, b] of [['told', 'steady'], ['told', 'io-wait', 'postgres'], ['told', 'io-wait', 'service'], ['told', 'cpu'], ['nocpu', 'io-wait', 'postgres'], ['plain', 'steady'], ['needs', 'steady']] as const) {
      expect(cell(m, s, b).status, `${m} ${s} ${b ?? ''}: ${cell(m, s, b).reason ?? ''}`).toBe('ok');
    }
    expect(cell('nocpu', 'cpu').status).toBe('limit');
    expect(cell('nocpu', 'cpu').reason).toBe('nocpu does not declare cpu: its models file entry serves steady, io-wait ("scenarios")');
    expect(cell('plain', 'io-wait', 'postgres').reason).toBe('plain does not declare io-wait: with no "scenarios" in its entry it serves steady, idle, churn; io-wait, cpu and payload need the scenario contract (README: "Measure your own server")');
    expect(cell('needs', 'io-wait', 'postgres').reason).toBe('needs needs the Python module no_such_module_xyz, which ' + process.execPath + ' cannot import (Debian package: python3-nosuch)');
    expect(cell('nocal', 'cpu').status).toBe('failed');
    expect(cell('nocal', 'cpu').reason).toBe('nocal declares cpu but printed no {"event":"calibration","workUs":150,"iterations":N,"nsPerIteration":X} line by 2000 ms after it was ready');
    for (const m of ['nocpu', 'plain', 'needs']) expect(results.cells.filter((c) => c.model === m && c.status === 'limit').every((c) => c.ops === 0)).toBe(true);

    // What the program reported of its own loop is the cell's; the ideal follows its declared shape.
    expect(cell('told', 'cpu').calibration).toEqual({ workUs: 150, iterations: 1234, nsPerIteration: 0.5 });
    expect(cell('told', 'cpu').ideal!.basis).toMatch(/^min\(2 connections, 1 thread, \d CPUs\) \/ 150 µs$/);
    // The waits' bound, and the CPU's at the cost per request the cell measured: the ideal is the lower.
    const ideal = cell('told', 'io-wait', 'postgres').ideal!;
    expect(ideal.bounds!.waits).toBe(200);
    expect(ideal.basis).toMatch(/^waits: min\(2 connections, 3 workers\) \/ 10 ms; CPU: \d+ CPUs? \/ [\d.]+ µs per request$/);
    expect(ideal.opsPerSec).toBe(Math.min(200, ideal.bounds!.cpu ?? Infinity));
    expect(cell('told', 'steady').calibration).toBeUndefined();

    // What each program was told, as it wrote it down (the password file is gone with the run's database).
    type Told = { argv: string[]; told: Record<string, string>; backend: Record<string, unknown> | null };
    // Only the contract's variables: the harness's own (its run lock's holder) pass through to every child.
    const contract = (t: Told): Told => ({ ...t, told: Object.fromEntries(Object.entries(t.told).filter(([k]) => CONTRACT_VARIABLES.includes(k))) });
    const told = readdirSync(log).map((f) => contract(JSON.parse(readFileSync(join(log, f), 'utf8')) as Told));
    const of = (scenario: string, backend?: string) => told.find((t) => t.told.CB_SCENARIO === scenario && t.told.CB_BACKEND === backend)!;
    const pgTold = of('io-wait', 'postgres');
    expect(pgTold.told).toEqual({
      CB_SCENARIO: 'io-wait', CB_PROTOCOL: 'http', CB_PORT: pgTold.argv[0], CB_WORKERS: '3',
      CB_BACKEND: 'postgres', CB_BACKEND_CONNECTIONS: 'pooled', CB_DB_POOL: '2', CB_BACKEND_DELAY_MS: '10',
      CB_PG_HOST: '127.0.0.1', CB_PG_PORT: expect.stringMatching(/^\d+$/), CB_PG_USER: 'bench', CB_PG_DATABASE: 'bench',
      CB_PG_PASSWORD_FILE: expect.stringMatching(/\/password$/), CB_PG_QUERY: 'SELECT id, randomnumber, pg_sleep(0.01) FROM world WHERE id = $1', CB_PG_ROWS: '10000',
    });
    // It reached the run's database with them: the row it asked for, with its randomnumber; the
    // password came from a 0600 file and is nowhere in its environment or arguments.
    const row = [4321, (4321 * 2654435761) % 10000 + 1];
    expect(pgTold.backend).toEqual({ row, passwordFileMode: 0o600, passwordLength: 32, passwordElsewhere: false });
    expect(of('io-wait', 'service').told).toMatchObject({ CB_BACKEND: 'service', CB_SERVICE_HOST: '127.0.0.1', CB_SERVICE_PORT: expect.stringMatching(/^\d+$/) });
    expect(of('io-wait', 'service').backend).toEqual({ answer: 'A000010e1', length: 64 });
    expect(of('cpu').told).toEqual({ CB_SCENARIO: 'cpu', CB_PROTOCOL: 'http', CB_PORT: of('cpu').argv[0], CB_WORKERS: '3', CB_WORK_US: '150' });
    expect(of('steady').told).toEqual({ CB_SCENARIO: 'steady', CB_PROTOCOL: 'http', CB_PORT: of('steady').argv[0], CB_WORKERS: '3' });
  }, LOCKED_TIMEOUT_MS);
});
