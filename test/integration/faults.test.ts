// Faults tried as a user would meet them: a server killed mid-cell, the harness itself killed, two
// runs at once, Ctrl-C. Each ends with nothing left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_ENV } from '../../harness/guard.js';
import { dist } from '../../harness/paths.js';
import { readResults } from '../../schema/read-results.js';
import { holdRunLockForTests, releaseTestLock } from '../helpers/run-lock.js';

const bench = dist('scripts/bench.js');

/** Pids of the processes whose environment carries `tag`, with their command lines. */
function tagged(tag: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, 'latin1').includes(tag)) continue;
      out.push({ pid: Number(name), cmd: readFileSync(`/proc/${name}/cmdline`, 'latin1').replace(/\0/g, ' ') });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

interface Run {
  child: ChildProcess;
  tag: string;
  stderr(): string;
  exited: Promise<number | string | null>;
}

/** A bench that shares this file's run lock, or with `ownLock` one that must take the lock itself. */
function startBench(args: string[], ownLock = false): Run {
  const tag = `CB_FAULT_TAG=${process.pid}-${Math.random().toString(36).slice(2)}`;
  const [k, v] = tag.split('=') as [string, string];
  const env: NodeJS.ProcessEnv = { ...process.env, [k]: v };
  if (ownLock) delete env[LOCK_ENV];
  const child = spawn(process.execPath, [bench, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string | null>((r) => child.on('exit', (code, signal) => r(code ?? signal)));
  return { child, tag, stderr: () => stderr, exited };
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const LONG = ['--scenarios', 'steady', '--models', 'async', '--protocols', 'echo', '--concurrency', '1,2,3', '--duration', '2s', '--warmup', '0s'];

describe('faults', () => {
  it('refuses a second run while one is going, naming it; Ctrl-C names the real results file', async () => {
    // Two runs of their own: this file lets go of its lock for them, and takes it back after.
    releaseTestLock();
    const out = mkdtempSync(join(tmpdir(), 'faults-lock-'));
    const a = startBench([...LONG, '--out', out], true);
    try {
      await until(() => a.stderr().includes('[1/3]'), 'the first run to start');
      const b = startBench(['--scenarios', 'steady', '--models', 'epoll', '--concurrency', '1', '--duration', '0.2s', '--out', mkdtempSync(join(tmpdir(), 'faults-b-'))], true);
      expect(await b.exited).toBe(2);
      const runDir = join(out, readlinkSync(join(out, 'latest')));
      const commandLine = readFileSync(`/proc/${a.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      expect(b.stderr()).toBe(`bench: another run is going on this machine: npm run bench (pid ${a.child.pid}: ${commandLine}), writing ${runDir}; two runs at once would measure each other. Wait for it, or end it with kill ${a.child.pid}\n`);
      a.child.kill('SIGINT');
      expect(await a.exited).toBe(130);
      expect(a.stderr()).toContain(`every cell finished so far is in ${join(runDir, 'results.json')}`);
    } finally {
      a.child.kill('SIGKILL');
      await holdRunLockForTests('npm test: test/integration/faults.test.ts');
    }
  });

  it('ends, at the next start, the server and client that a SIGKILLed harness left running', async () => {
    const a = startBench([...LONG, '--out', mkdtempSync(join(tmpdir(), 'faults-orphans-'))]);
    await until(() => a.stderr().includes('[2/3]'), 'the second cell');
    // The client starts beside the server (it loads while the server starts): both must be up.
    await until(() => tagged(a.tag).some((p) => p.cmd.includes('clients/main.js')) && tagged(a.tag).some((p) => p.cmd.includes('servers/main.js')), 'the second cell to load');
    await new Promise((r) => setTimeout(r, 300)); // its groups recorded by the harness, its members noted by the sampler
    a.child.kill('SIGKILL');
    await a.exited;
    const left = tagged(a.tag);
    expect(left.some((p) => p.cmd.includes('servers/main.js'))).toBe(true); // orphans, as after a crash
    const b = startBench(['--scenarios', 'steady', '--models', 'epoll', '--protocols', 'echo', '--concurrency', '1', '--duration', '0.2s', '--warmup', '0s', '--out', mkdtempSync(join(tmpdir(), 'faults-next-'))]);
    expect(await b.exited).toBe(0);
    // The server's group at least; the client's too unless it ended itself first: one still waiting
    // for its target (the server not yet verified when the harness died) sees stdin close and exits.
    expect(b.stderr()).toMatch(new RegExp(`bench: ended [123] process group\\(s\\) left running by an earlier run \\(pid ${a.child.pid}\\)`));
    await until(() => tagged(a.tag).length === 0, 'the orphans to be gone', 5000);
  });

  it('records a server killed mid-cell as a failed cell with the signal, and goes on', async () => {
    const out = mkdtempSync(join(tmpdir(), 'faults-kill-'));
    const a = startBench(['--scenarios', 'steady', '--models', 'epoll', '--protocols', 'echo', '--concurrency', '1,2', '--duration', '2s', '--warmup', '0s', '--out', out]);
    await until(() => tagged(a.tag).some((p) => p.cmd.includes('clients/main.js')) && tagged(a.tag).some((p) => p.cmd.includes('servers/main.js')), 'the first cell to load');
    await new Promise((r) => setTimeout(r, 600)); // inside the window: the server started, was verified, and the client connected
    const server = tagged(a.tag).find((p) => p.cmd.includes('servers/main.js'))!;
    process.kill(server.pid, 'SIGKILL');
    expect(await a.exited).toBe(1);
    const cells = readResults(join(out, readlinkSync(join(out, 'latest')))).cells;
    expect(cells.map((c) => c.status)).toEqual(['failed', 'ok']);
    expect(cells[0]!.reason).toMatch(/^server exited \(SIGKILL\) during the load/);
    await until(() => tagged(a.tag).length === 0, 'every process to be gone', 5000);
  });
});
