// The machine's run lock: flock(2) on one file, so the kernel releases it when its holder dies, and
// a record (pid and start time) that names the holder only while that very process lives. Both
// orders of `npm test` and `npm run bench`: a bench started while tests run is refused, naming the
// test file; tests started while a bench runs wait for it, saying so, and start no server before
// it has finished.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_ENV, lockHolder, STATE_DIR } from '../../harness/guard.js';
import { dist, PROJECT_ROOT } from '../../harness/paths.js';
import { readStat } from '../../harness/sampler.js';
import { readResults } from '../../schema/read-results.js';
import { holdRunLockForTests, releaseTestLock, waitForRunLock } from '../helpers/run-lock.js';

const bench = dist('scripts/bench.js');
const TINY = ['--scenarios', 'steady', '--models', 'async', '--protocols', 'echo', '--concurrency', '1', '--duration', '0.3s', '--warmup', '0.1s'];
const THIS_FILE = 'npm test: test/integration/run-lock.test.ts';
const BUSY = 'another run is going on this machine';

/** This process's environment for a run that must take the lock for itself, not share this test's. */
function ownLockEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env[LOCK_ENV];
  return env;
}

function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
}

/** Runs `fn` with this test file's lock let go (so a run it starts can take it), then takes it again. */
async function withoutTestLock<T>(fn: () => Promise<T>): Promise<T> {
  releaseTestLock();
  try {
    return await fn();
  } finally {
    await holdRunLockForTests(THIS_FILE);
  }
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.on('exit', (code) => r(code)));
}

describe('the run lock', () => {
  it('a bench started while the tests run is refused with exit 2, naming the test file and its command line; nothing is started', () => {
    expect(lockHolder()?.pid).toBe(process.pid); // lock-setup.ts took it for this file
    const out = mkdtempSync(join(tmpdir(), 'lock-refused-'));
    const r = spawnSync(process.execPath, [bench, ...TINY, '--out', out], { encoding: 'utf8', env: ownLockEnv(), timeout: 60_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `bench: ${BUSY}: ${THIS_FILE} (pid ${process.pid}: ${cmdline(process.pid)}); two runs at once would measure each other. Wait for it, or end it with kill ${process.pid}`,
    ]);
    expect(readdirSync(out)).toEqual([]);
  });

  it('a lock file naming a live process that holds no lock is taken over: the kernel says who holds it, not the file', async () => {
    // A live, unrelated process, named in the file with its real start time, as a stale lock after
    // a reboot or a busy day names whatever has that pid now.
    const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await until('sleep to start', () => readStat(unrelated.pid!) !== null);
      const record = { pid: unrelated.pid, startTicks: readStat(unrelated.pid!)!.startTicks, what: 'npm run bench', runDir: '/nowhere', startedAt: new Date().toISOString() };
      const r = await withoutTestLock(async () => {
        for (;;) {
          await waitForRunLock(); // someone else's real run on a shared machine: after it
          writeFileSync(join(STATE_DIR, 'run.lock'), JSON.stringify(record));
          const out = mkdtempSync(join(tmpdir(), 'lock-stale-'));
          const run = spawnSync(process.execPath, [bench, ...TINY, '--out', out], { encoding: 'utf8', env: ownLockEnv(), timeout: 60_000 });
          if (run.status === 2 && run.stderr.includes(BUSY) && !run.stderr.includes(`pid ${unrelated.pid}:`)) continue;
          return { ...run, out };
        }
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toContain(BUSY);
      expect(readResults(join(r.out, readlinkSync(join(r.out, 'latest')))).cells.map((c) => c.status)).toEqual(['ok']);
      expect(unrelated.exitCode).toBeNull(); // never told to anyone as a run to kill, never touched
    } finally {
      unrelated.kill('SIGKILL');
    }
  }, 120_000);

  it('is held while its holder lives, named with its command line, and free the moment the holder is killed with SIGKILL', async () => {
    const script = `import(${JSON.stringify(dist('harness/guard.js'))}).then((g) => { g.acquireRunLock('a holder of the test'); console.log('held'); setInterval(() => {}, 1000); })`;
    await withoutTestLock(async () => {
      let holder: ChildProcess;
      for (;;) {
        await waitForRunLock();
        holder = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env: ownLockEnv() });
        let said = '';
        holder.stdout!.on('data', (d: Buffer) => (said += d.toString()));
        holder.stderr!.on('data', (d: Buffer) => (said += d.toString()));
        await until('the holder to take the lock or give up', () => said.includes('held') || holder.exitCode !== null);
        if (said.includes('held')) break;
      }
      try {
        const h = lockHolder()!;
        expect(h.pid).toBe(holder.pid);
        expect(h.startTicks).toBe(readStat(holder.pid!)!.startTicks);
        expect(h.commandLine).toBe(cmdline(holder.pid!));
        const refused = spawnSync(process.execPath, [bench, ...TINY, '--out', mkdtempSync(join(tmpdir(), 'lock-held-'))], { encoding: 'utf8', env: ownLockEnv(), timeout: 60_000 });
        expect(refused.status).toBe(2);
        expect(refused.stderr).toContain(`${BUSY}: a holder of the test (pid ${holder.pid}: ${process.execPath} -e import(`);
      } finally {
        holder.kill('SIGKILL');
        await exited(holder);
      }
      // Nothing was cleaned up, nothing was removed: the kernel let go of the lock with the process.
      expect(lockHolder()).toBeNull();
      const out = mkdtempSync(join(tmpdir(), 'lock-freed-'));
      const after = spawnSync(process.execPath, [bench, ...TINY, '--out', out], { encoding: 'utf8', env: ownLockEnv(), timeout: 60_000 });
      if (after.status === 2 && after.stderr.includes(BUSY)) return; // a neighbour's run took it first: that is the lock working
      expect(after.status, after.stderr).toBe(0);
    });
  }, 120_000);

  it('npm test started during a bench waits for it, naming it, and starts no server until the bench has finished', async () => {
    const probe = join(mkdtempSync(join(tmpdir(), 'lock-probe-')), 'probe.json');
    const out = mkdtempSync(join(tmpdir(), 'lock-bench-'));
    const { benchCode, benchPid, tests, testsCode } = await withoutTestLock(async () => {
      let b: ChildProcess;
      let err = '';
      for (;;) {
        await waitForRunLock();
        b = spawn(process.execPath, [bench, '--scenarios', 'steady', '--models', 'async', '--protocols', 'echo', '--concurrency', '1,2,3', '--duration', '1s', '--warmup', '0.2s', '--out', out], {
          stdio: ['ignore', 'ignore', 'pipe'], env: ownLockEnv(),
        });
        err = '';
        b.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        await until('the bench to hold the lock or refuse', () => lockHolder()?.pid === b.pid || b.exitCode !== null);
        if (lockHolder()?.pid === b.pid) break;
        await exited(b);
      }
      // `npm test` as a user starts it: its own vitest, nothing of this test's environment.
      const env = Object.fromEntries(Object.entries(ownLockEnv({ CB_TEST_LOCK_PROBE: probe })).filter(([k]) => !k.startsWith('VITEST')));
      const t = spawn(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/integration/lock-probe.test.ts'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let said = '';
      t.stdout!.on('data', (d: Buffer) => (said += d.toString()));
      t.stderr!.on('data', (d: Buffer) => (said += d.toString()));
      const [benchCode, testsCode] = await Promise.all([exited(b), exited(t)]);
      expect(benchCode, err).toBe(0);
      return { benchCode, benchPid: b.pid!, tests: said, testsCode };
    });
    expect(benchCode).toBe(0);
    expect(testsCode, tests).toBe(0);
    expect(tests).toContain(`npm test: test/integration/lock-probe.test.ts: waiting for the run lock: npm run bench (pid ${benchPid}: ${process.execPath} ${bench} --scenarios steady`);
    const results = readResults(join(out, readlinkSync(join(out, 'latest'))));
    expect(results.cells.map((c) => c.status)).toEqual(['ok', 'ok', 'ok']);
    // The test's server started after the bench's last cell was written: no cell ran beside it.
    expect(existsSync(probe)).toBe(true);
    const { startedAtMs } = JSON.parse(readFileSync(probe, 'utf8')) as { startedAtMs: number };
    expect(startedAtMs).toBeGreaterThanOrEqual(Date.parse(results.finishedAt!));
  }, 180_000);
});
