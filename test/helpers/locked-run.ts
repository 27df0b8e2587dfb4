// Runs an entry that takes the machine's run lock (bench, bench:ci) as a test's child. The test file
// holds the lock (lock-setup.ts) and the child shares it: LOCK_ENV names the test's process, which
// is its ancestor and holds the lock, as the guard checks. Should the lock be another run's after
// all (the test let go of its own), the entry refuses with exit 2 and is started again until
// lockWaitMs.
import { spawn } from 'node:child_process';

export interface LockedRunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** One attempt's limit; the child gets SIGTERM after it (bench and bench:ci end their groups). */
  timeoutMs: number;
  /** How long to keep trying while another run holds the lock. */
  lockWaitMs: number;
}

export interface LockedRunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const BUSY = 'another run is going on this machine';

export async function runWhenUnlocked(script: string, args: string[], o: LockedRunOptions): Promise<LockedRunResult> {
  const env = { ...(o.env ?? process.env) };
  const giveUp = Date.now() + o.lockWaitMs;
  for (;;) {
    const r = await once(script, args, o.cwd, env, o.timeoutMs);
    if (!(r.status === 2 && r.stderr.includes(BUSY) && Date.now() < giveUp)) return r;
    await new Promise((done) => setTimeout(done, 500)); // often: a suite of short runs leaves short gaps
  }
}

function once(script: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<LockedRunResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, env, timeout: timeoutMs, killSignal: 'SIGTERM', stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => done({ status: null, signal: null, stdout, stderr: `${stderr}${e.message}` }));
    child.on('close', (status, signal) => done({ status, signal, stdout, stderr }));
  });
}
