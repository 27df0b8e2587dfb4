// The package as another project gets it: npm pack, npm install of the tarball in an empty folder,
// then the README's two commands through npx: a load against a server, and bench --quick. Its
// processes share this file's run lock (they descend from it, and LOCK_ENV names it).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/paths.js';
import { readResults } from '../../schema/read-results.js';

const npx = (cwd: string, args: string[], timeout: number) => {
  try {
    return { status: 0, stdout: execFileSync('npx', ['--no-install', 'concurrency-bench', ...args], { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] }), stderr: '' };
  } catch (e) {
    const x = e as { status: number | null; stdout: string; stderr: string };
    return { status: x.status, stdout: x.stdout, stderr: x.stderr };
  }
};

describe('npm pack', () => {
  it('installs in an empty folder and runs concurrency-bench load and bench --quick there', async () => {
    const packDir = mkdtempSync(join(tmpdir(), 'pack-'));
    execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });
    const tarball = readdirSync(packDir).find((f) => /^concurrency-bench-.*\.tgz$/.test(f));
    expect(tarball).toBeDefined();
    const project = mkdtempSync(join(tmpdir(), 'user-project-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', join(packDir, tarball!)], { cwd: project, stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
    const installed = join(project, 'node_modules', 'concurrency-bench');
    expect(existsSync(join(installed, 'dist', 'scripts', 'cli.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'test'))).toBe(false); // the tests stay here

    expect(npx(project, ['--help'], 30_000).stdout).toContain('Usage: concurrency-bench COMMAND');
    const bad = npx(project, ['nope'], 30_000);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('concurrency-bench: unknown command "nope"');

    // A server of the package's own, then its load generator against it.
    const server = spawn('npx', ['--no-install', 'concurrency-bench', 'server', '--model', 'epoll', '--protocol', 'http'], { cwd: project, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /"event":"listening".*?"port":(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        server.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${out}`)));
      });
      const load = npx(project, ['load', '--target', `127.0.0.1:${port}`, '--protocol', 'http', '--connections', '4', '--duration', '0.5s', '--warmup', '0.2s', '--json'], 60_000);
      expect(load.status, load.stderr).toBe(0);
      const r = JSON.parse(load.stdout) as { ops: number; errors: { total: number } };
      expect(r.ops).toBeGreaterThan(0);
      expect(r.errors.total).toBe(0);
    } finally {
      try {
        process.kill(-server.pid!, 'SIGTERM');
      } catch {
        // gone already
      }
    }

    const bench = npx(project, ['bench', '--quick'], 300_000);
    expect(bench.status, bench.stderr).toBe(0);
    const results = readResults(join(project, 'results', readlinkSync(join(project, 'results', 'latest'))));
    expect(results.settings.models).toContain('epoll');
    expect(results.cells.filter((c) => c.status === 'ok').map((c) => c.model)).toEqual(expect.arrayContaining(['epoll', 'async', 'thread-per-connection', 'native-epoll']));
    expect(results.cells.filter((c) => c.status === 'failed')).toEqual([]);
    expect(existsSync(join(project, 'results', readlinkSync(join(project, 'results', 'latest')), 'report.md'))).toBe(true);
  }, 900_000);
});
