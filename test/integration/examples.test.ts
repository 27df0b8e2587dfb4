// The examples of examples/models.json: the Python servers (threading, a thread pool,
// multiprocessing, selectors, asyncio, gevent) and nginx. Each Python server must answer HTTP byte
// for byte like our shared code and pass the catalog's conformance checks, serve every scenario
// the contract names with the driver its style uses, and show a missing package as a `limit`
// naming it. .ci/run installs what they need; under CB_REQUIRE_TOOLS=1 a missing one fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dist, PROJECT_ROOT } from '../../harness/paths.js';
import { STOP_GRACE_MS, startGroup, stopGroup, waitForMessage, type Child } from '../../harness/processes.js';
import type { Cell, Results } from '../../schema/results.js';
import { SUITES } from '../../harness/suites.js';
import { readResults } from '../../schema/read-results.js';
import { MODEL_NAMES, SCENARIOS } from '../../schema/catalog.js';
import { bytesBody } from '../../protocols/http.js';
import { exchange, expectedReply, HTTP_CASES, withoutDate } from '../helpers/http-cases.js';
import { waitForRunLock } from '../helpers/run-lock.js';
import { connect, leftAfterSigterm, parseResponses, readUntil, seededBytes, seededInts } from '../helpers/server.js';
import { requireTool } from '../helpers/tools.js';

const PYTHON = '/usr/bin/python3';
const SERVERS = join(PROJECT_ROOT, 'examples', 'servers');
const MODELS_FILE = join(PROJECT_ROOT, 'examples', 'models.json');
const LOCKED_TIMEOUT_MS = 12 * 60_000;

const imports = (module: string): boolean => {
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const hasPython = existsSync(PYTHON);
/** The Debian package of each module the examples import. */
const PACKAGES: Record<string, string> = { gevent: 'python3-gevent', psycopg2: 'python3-psycopg2', psycogreen: 'python3-psycogreen', asyncpg: 'python3-asyncpg', uvloop: 'python3-uvloop' };
const present = Object.fromEntries(Object.keys(PACKAGES).map((m) => [m, hasPython && imports(m)]));
const hasNginx = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v nginx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Each Python example: its script, and the modules it needs in steady and (besides those) in io-wait. */
const PY: Record<string, { script: string; always: string[]; ioWait: string[] }> = {
  'py-threading': { script: 'threading_server.py', always: [], ioWait: ['psycopg2'] },
  'py-threadpool': { script: 'threadpool_server.py', always: [], ioWait: ['psycopg2'] },
  'py-multiprocessing': { script: 'multiprocessing_server.py', always: [], ioWait: ['psycopg2'] },
  'py-selectors': { script: 'selectors_server.py', always: [], ioWait: ['psycopg2'] },
  'py-asyncio': { script: 'asyncio_server.py', always: [], ioWait: ['asyncpg'] },
  'py-gevent': { script: 'gevent_server.py', always: ['gevent'], ioWait: ['psycopg2', 'psycogreen'] },
};
const PY_NAMES = Object.keys(PY);
const runs = (model: string, scenario: 'steady' | 'io-wait'): boolean =>
  hasPython && [...PY[model]!.always, ...(scenario === 'io-wait' ? PY[model]!.ioWait : [])].every((m) => present[m]);

/** Under CB_REQUIRE_TOOLS=1 every package must be there; elsewhere a missing one is noted. */
function requirePackages(modules: string[]): void {
  requireTool('python3', hasPython, 'apt-get install python3');
  for (const m of modules) requireTool(PACKAGES[m]!, present[m]!, `apt-get install ${PACKAGES[m]}`);
}

/** A bench of its own, started again while another run holds the machine's run lock. */
async function bench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stderr: string; results: Results }> {
  const out = mkdtempSync(join(tmpdir(), 'examples-'));
  for (;;) {
    const r = spawnSync(process.execPath, [dist('scripts/bench.js'), ...args, '--out', out], { encoding: 'utf8', timeout: 600_000, env });
    if (r.status === 2 && r.stderr.includes('another run is going on this machine')) {
      await waitForRunLock();
      continue;
    }
    if (!existsSync(join(out, 'latest'))) throw new Error(`bench wrote no results (exit ${r.status}): ${r.stderr}`);
    return { status: r.status, stderr: r.stderr, results: readResults(join(out, readlinkSync(join(out, 'latest')))) };
  }
}

const show = (c: Cell): string => `${c.model} ${c.scenario} ${c.backend ?? ''} ${c.backendConnections ?? ''}: ${c.reason ?? ''}`;

describe('examples/models.json', () => {
  it('puts the Python servers and nginx beside epoll in steady, each verified and measured, or a limit naming its package', async () => {
    requirePackages(['gevent', 'uvloop']);
    requireTool('nginx', hasNginx, 'apt-get install nginx-light');
    const { status, stderr, results } = await bench(['--models-file', MODELS_FILE, '--scenarios', 'steady',
      '--models', `${PY_NAMES.join(',')},nginx,epoll`, '--concurrency', '4', '--duration', '0.3s', '--warmup', '0.1s']);
    expect(status, stderr).toBe(0);
    const cells = results.cells;
    // Python serves both protocols; nginx only HTTP.
    expect(cells.map((c) => `${c.model}/${c.protocol}`).sort()).toEqual([
      'epoll/echo', 'epoll/http', 'nginx/http', ...PY_NAMES.flatMap((m) => [`${m}/echo`, `${m}/http`]),
    ].sort());
    for (const c of cells) {
      if (c.model === 'epoll' || (c.model === 'nginx' ? hasNginx : runs(c.model, 'steady'))) {
        expect(c.status, show(c)).toBe('ok');
        expect(c.errors.total).toBe(0);
      } else {
        expect(c.status).toBe('limit');
        expect(c.reason).toMatch(/Debian package: (python3-gevent|nginx-light|python3)\)$/);
      }
    }
    // nginx runs a master and {workers} worker processes: the harness samples and ends them all.
    if (hasNginx) expect(cells.find((c) => c.model === 'nginx')!.server.processesPeak).toBe(results.settings.workers + 1);
    // A thread pool holds its I/O thread and --workers workers; a process per connection, one process each.
    expect(cells.find((c) => c.model === 'py-threadpool' && c.protocol === 'http')!.server.threadsPeak).toBe(results.settings.workers + 1);
    expect(cells.find((c) => c.model === 'py-multiprocessing' && c.protocol === 'http')!.server.processesPeak).toBeGreaterThanOrEqual(5);
    expect(results.settings.externalModels!.find((m) => m.name === 'py-threading')!.version).toMatch(/^Python 3\.\d+\.\d+, psycopg2 (\S+|missing)/);
    expect(results.settings.externalModels!.find((m) => m.name === 'py-asyncio')!.version).toMatch(present.uvloop ? /, uvloop \d/ : /, uvloop missing/);
    if (hasNginx) expect(results.settings.externalModels!.find((m) => m.name === 'nginx')!.version).toMatch(/^nginx version: nginx\//);
  }, LOCKED_TIMEOUT_MS);

  it('runs every Python server in io-wait on PostgreSQL and the service, pooled and per request, and in cpu with its own calibration', async () => {
    requirePackages(['gevent', 'psycopg2', 'psycogreen', 'asyncpg']);
    const { stderr, results } = await bench(['--models-file', MODELS_FILE, '--models', PY_NAMES.join(','), '--scenarios', 'io-wait,cpu',
      '--concurrency', '4', '--backend', 'postgres,service', '--backend-connections', 'pooled,per-request', '--db-pool', '4', '--duration', '0.4s', '--warmup', '0.1s']);
    expect(results.cells.length, stderr).toBe(PY_NAMES.length * 5);
    for (const c of results.cells) {
      if (!runs(c.model, c.scenario === 'io-wait' ? 'io-wait' : 'steady')) {
        expect(c.status, show(c)).toBe('limit');
        expect(c.reason).toMatch(/Debian package: python3-\w+\)$/);
        continue;
      }
      expect(c.status, show(c)).toBe('ok');
      expect(c.errors.total, show(c)).toBe(0);
      if (c.scenario === 'cpu') {
        // The program's own loop, calibrated for the cell's work: CPython's costs far more per iteration than V8's.
        expect(c.calibration!.workUs).toBe(200);
        expect(c.calibration!.iterations).toBeGreaterThan(0);
        expect(c.calibration!.nsPerIteration).toBeGreaterThan(results.settings.work!.nsPerIteration);
        continue;
      }
      // Every request waited on one query, and pooled means pooled: a few connections for many queries.
      const [queries, opened] = c.backend === 'postgres' ? [c.database!.queries, c.database!.sessionsOpened] : [c.service!.queries, c.service!.connectionsOpened];
      expect(queries, show(c)).toBeGreaterThanOrEqual(c.ops);
      if (c.backendConnections === 'pooled') expect(opened, show(c)).toBeLessThanOrEqual(2 * c.concurrency);
      else expect(opened, show(c)).toBeGreaterThanOrEqual(c.ops);
    }
  }, LOCKED_TIMEOUT_MS);

  it('fails the cell of a Python server whose backend answers wrongly, with the reason it reported', async () => {
    requirePackages(['gevent']);
    const { results } = await bench(['--models-file', MODELS_FILE, '--models', PY_NAMES.join(','), '--scenarios', 'io-wait', '--concurrency', '2',
      '--backend', 'service', '--backend-connections', 'pooled', '--db-pool', '2', '--duration', '0.3s', '--warmup', '0s'], { ...process.env, CB_TEST_BACKEND_MISBEHAVE: 'wrong-answer' });
    for (const c of results.cells.filter((x) => runs(x.model, 'steady'))) {
      expect(c.status, show(c)).toBe('failed');
      expect(c.reason, show(c)).toMatch(/^the server reported: service: backend answered a different query/);
    }
  }, LOCKED_TIMEOUT_MS);

  it('records a Python server whose database driver is missing as a limit naming its Debian package, in io-wait only', async () => {
    // The same entries, run by an interpreter without Debian's dist-packages (python3 -S).
    const dir = mkdtempSync(join(tmpdir(), 'bare-python-'));
    const bare = join(dir, 'python3-bare');
    writeFileSync(bare, `#!/bin/sh\nexec ${PYTHON} -S "$@"\n`);
    chmodSync(bare, 0o755);
    const file = join(dir, 'models.json');
    const models = (JSON.parse(readFileSync(MODELS_FILE, 'utf8')) as { models: { name: string; command: string[]; cwd: string; requires?: { command?: string }[] }[] }).models
      // The standard-library servers: their drivers are needed in io-wait only (gevent and the
      // frameworks need their own package in every scenario, which python3 -S cannot import).
      .filter((m) => ['py-threading', 'py-threadpool', 'py-multiprocessing', 'py-selectors', 'py-asyncio'].includes(m.name))
      .map((m) => ({ ...m, command: [bare, ...m.command.slice(1)], cwd: SERVERS, requires: m.requires?.filter((r) => r.command === undefined) }));
    writeFileSync(file, JSON.stringify({ models }));
    const { results } = await bench(['--models-file', file, '--models', models.map((m) => m.name).join(','), '--scenarios', 'steady,io-wait', '--protocols', 'http',
      '--concurrency', '2', '--backend', 'postgres', '--backend-connections', 'pooled', '--db-pool', '2', '--duration', '0.2s', '--warmup', '0s']);
    for (const c of results.cells) {
      if (c.scenario === 'steady') expect(c.status, show(c)).toBe('ok');
      else {
        expect(c.status).toBe('limit');
        const module = c.model === 'py-asyncio' ? 'asyncpg' : 'psycopg2';
        expect(c.reason).toBe(`${c.model} needs the Python module ${module}, which ${bare} cannot import (Debian package: ${PACKAGES[module]})`);
        expect(c.ops).toBe(0);
      }
    }
  }, LOCKED_TIMEOUT_MS);

  it('names in the python suite only models of the catalog or of examples/models.json, in every scenario', () => {
    const listed = (JSON.parse(readFileSync(join(PROJECT_ROOT, SUITES.python.modelsFile!), 'utf8')) as { models: { name: string; scenarios?: string[] }[] }).models;
    const slices = SUITES.python.slices;
    expect(new Set(slices.map((s) => s.scenario))).toEqual(new Set(SCENARIOS));
    for (const slice of slices) {
      for (const m of slice.models ?? []) {
        const entry = listed.find((e) => e.name === m);
        expect(entry !== undefined || MODEL_NAMES.includes(m), `${m} in the python suite's ${slice.scenario} slice`).toBe(true);
        if (entry) expect(entry.scenarios, m).toContain(slice.scenario);
      }
    }
    expect(PY_NAMES.every((m) => slices.every((s) => s.scenario === 'idle' || s.scenario === 'io-wait' || s.models!.includes(m)))).toBe(true);
  });

  it('checks every row against its id in Python as our models do', () => {
    requirePackages([]);
    const check = (args: string): string => execFileSync(PYTHON, ['-c', `import scenario; print(scenario.check_row(${args}))`], { cwd: SERVERS, encoding: 'utf8' }).trim();
    expect(check('4321, (4321, (4321 * 2654435761) % 10000 + 1, "")')).toBe('None');
    expect(check('4321, (4321, 17, "")')).toBe('postgres: a wrong row: asked for 4321, got (4321, 17)');
    expect(check('4321, (4322, (4322 * 2654435761) % 10000 + 1, "")')).toMatch(/^postgres: a wrong row: asked for 4321, got \(4322, /);
    expect(check('1, None')).toBe('postgres: the query returned no row');
  });
});

/** Starts one Python example by hand, as the harness would, in steady. */
async function startPython(script: string, protocol: 'echo' | 'http'): Promise<{ child: Child; port: number }> {
  const env = { ...process.env, CB_SCENARIO: 'steady', CB_PROTOCOL: protocol, CB_PORT: '0', CB_WORKERS: '4' };
  const child = startGroup(PYTHON, [script, '0', protocol], { cpus: null, cwd: SERVERS, env });
  try {
    const port = await waitForMessage(child, (m) => (m.event === 'listening' ? Number(m.port) : undefined), 15_000, `${script} start`);
    return { child, port };
  } catch (e) {
    await stopGroup(child);
    throw e;
  }
}

// The catalog's conformance checks (conformance.test.ts) and the byte-for-byte HTTP parity of the
// C servers (selectors.test.ts), for each Python server: it parses no lighter than our models.
for (const [model, { script, always }] of Object.entries(PY)) {
  for (const protocol of ['echo', 'http'] as const) {
    describe.skipIf(!(runs(model, 'steady') || process.env.CB_REQUIRE_TOOLS === '1'))(`${model} ${protocol}`, () => {
      let server: { child: Child; port: number };
      beforeAll(async () => {
        requirePackages(always);
        server = await startPython(script, protocol);
      });
      afterAll(async () => {
        if (!server) return;
        // SIGTERM leaves no thread's or child's process behind, by itself: stopGroup's SIGKILL would hide one.
        const left = await leftAfterSigterm(server.child.pid);
        await stopGroup(server.child);
        expect(left, `still running ${STOP_GRACE_MS} ms after SIGTERM, so the harness would SIGKILL them`).toEqual([]);
      });

      if (protocol === 'http') {
        it('answers like the shared HTTP code: same statuses, headers in the same order, bodies, closes', async () => {
          const results = await Promise.all(HTTP_CASES.map(async (chunks) => {
            const { want, close, bytes } = expectedReply(chunks);
            const { got, closed } = await exchange(server.port, chunks, bytes, close);
            return { chunks, want, close, got: withoutDate(got), closed };
          }));
          for (const r of results) expect({ request: r.chunks, reply: r.got, closed: r.closed }).toEqual({ request: r.chunks, reply: r.want, closed: r.close });
        });

        it('answers GET /bytes/N with N pattern bytes, and keep-alive and pipelined requests in order', async () => {
          const socket = await connect(server.port);
          const reply = readUntil(socket, (got) => parseResponses(got).length === 6, 10_000);
          const body = seededBytes(3000, 5);
          socket.write(Buffer.concat([
            Buffer.from(['/bytes/0', '/bytes/65536', '/bytes/1048577', '/bytes/5?x=1'].map((p) => `GET ${p} HTTP/1.1\r\nHost: t\r\n\r\n`).join('')),
            Buffer.from(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`), body,
            Buffer.from('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'),
          ]));
          const res = parseResponses(await reply);
          socket.destroy();
          expect(res.map((r) => r.status)).toEqual([200, 200, 404, 200, 200, 200]);
          expect(res[1]!.body.equals(bytesBody(65536))).toBe(true);
          expect(res[3]!.body.toString()).toBe('abcde');
          expect(res[4]!.body.equals(body)).toBe(true);
          expect(res[5]!.headers.connection).toBe('close');
          expect(res[5]!.headers.date).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
        });
      } else {
        it('echoes 1 MiB sent in random-sized chunks back exactly, beside other connections', async () => {
          const data = seededBytes(1 << 20, 7);
          const next = seededInts(11);
          const socket = await connect(server.port);
          const others = await Promise.all([1, 2].map(() => connect(server.port)));
          const reply = readUntil(socket, (got) => got.length >= data.length, 30_000);
          const otherReplies = others.map((s, i) => readUntil(s, (got) => got.length >= 4096 + i));
          others.forEach((s, i) => s.write(seededBytes(4096 + i, 100 + i)));
          for (let at = 0; at < data.length;) {
            const n = 1 + (next() % 16384);
            socket.write(data.subarray(at, at + n));
            at += n;
          }
          const got = await reply;
          (await Promise.all(otherReplies)).forEach((g, i) => expect(g.equals(seededBytes(4096 + i, 100 + i))).toBe(true));
          [socket, ...others].forEach((s) => s.destroy());
          expect(got.equals(data)).toBe(true);
        });
      }

      it('survives a client that resets its connection mid-message', async () => {
        const victim: net.Socket = await connect(server.port);
        victim.write(protocol === 'echo' ? seededBytes(200_000, 3) : 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\npartial');
        await new Promise((r) => setTimeout(r, 50));
        victim.resetAndDestroy();
        await new Promise((r) => setTimeout(r, 100));
        const socket = await connect(server.port);
        const request = protocol === 'echo' ? Buffer.from('still here\n') : Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        const got = await (async () => {
          const reply = readUntil(socket, (g) => (protocol === 'echo' ? g.length >= request.length : parseResponses(g).length === 1));
          socket.write(request);
          return reply;
        })();
        socket.destroy();
        if (protocol === 'echo') expect(got.equals(request)).toBe(true);
        else expect(parseResponses(got)[0]!.status).toBe(200);
      });
    });
  }
}
