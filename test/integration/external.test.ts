// External models: a program we did not build, through the whole pipeline, and every way it can
// fail before serving recorded as a cell with its reason while the run goes on.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../clients/latency.js';
import { dist, PROJECT_ROOT } from '../../harness/paths.js';
import { readResults } from '../../report/read-results.js';

const TINY = join(PROJECT_ROOT, 'test', 'fixtures', 'servers', 'tiny-server.mjs');

function bench(args: string[]): { status: number | null; stderr: string; out: string } {
  const out = mkdtempSync(join(tmpdir(), 'external-'));
  const r = spawnSync(process.execPath, [dist('scripts/bench.js'), ...args, '--out', out], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr, out };
}

const latest = (out: string) => readResults(join(out, readlinkSync(join(out, 'latest'))));

describe('external models', () => {
  it('measures a program given by --server-cmd like a built-in model: verified, loaded, sampled, stopped', () => {
    const r = bench(['--server-cmd', `tiny=${process.execPath} ${TINY} {port} {protocol}`, '--models', 'tiny', '--scenarios', 'steady', '--concurrency', '1,4', '--duration', '0.5s', '--warmup', '0.2s']);
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
  });

  it('records each way a program can fail before serving as a cell with its reason, and goes on', () => {
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
    const r = bench(['--models-file', file, '--scenarios', 'steady', '--protocols', 'http', '--concurrency', '2', '--duration', '0.3s', '--warmup', '0s']);
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
  });

  it('refuses a bad models file or --server-cmd with one line and exit 2', () => {
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
      [['--server-cmd', 'noport=./srv'], 'bench: --server-cmd: the command of "noport" must take the port as {port}\n'],
      [['--server-cmd', 'epoll=./srv {port}'], 'bench: --server-cmd: "epoll" is a built-in model; choose another name\n'],
    ];
    for (const [args, message] of cases) {
      const r = bench(args);
      expect(r.stderr, args.join(' ')).toBe(message);
      expect(r.status).toBe(2);
    }
  });
});
