// The machine's run lock from the tests' side. Every integration test file starts servers or load,
// which would disturb a benchmark's figures, so it holds the lock while it runs (lock-setup.ts):
// started while a benchmark runs, it waits and says for whom; a benchmark started while it runs is
// refused, naming it. The benches a test starts share its lock (LOCK_ENV names the test's process).
import { acquireRunLock, LOCK_ENV, LockError, lockHolder, releaseRunLock, type LockHolder } from '../../harness/guard.js';

/** How long a test file waits for a benchmark to finish before it gives up. */
export const TEST_LOCK_WAIT_MS = 60 * 60_000;

function describeHolder(h: LockHolder): string {
  return `${h.what} (pid ${h.pid}: ${h.commandLine})${h.runDir ? `, writing ${h.runDir}` : ''}`;
}

/**
 * Takes the run lock for this test process, waiting while another run holds it, with one line on
 * stderr that names that run and, when the wait ends, one that says so.
 */
export async function holdRunLockForTests(what: string, timeoutMs = TEST_LOCK_WAIT_MS): Promise<void> {
  let said: LockHolder | null = null;
  for (const until = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 250))) {
    try {
      acquireRunLock(what);
      if (said) process.stderr.write(`${what}: the run lock is free (${describeHolder(said)} has ended); starting\n`);
      return;
    } catch (e) {
      if (!(e instanceof LockError)) throw e;
      const h = lockHolder();
      if (h && h.pid !== said?.pid) {
        process.stderr.write(`${what}: waiting for the run lock: ${describeHolder(h)} holds it, and this file starts servers and load that would disturb its figures\n`);
        said = h;
      }
      if (Date.now() > until) throw new Error(`${what}: the run lock is still held after ${Math.round(timeoutMs / 1000)} s: ${e.message}`);
    }
  }
}

/** Lets go of the test's lock, so that a run the test starts on purpose can take it. */
export function releaseTestLock(): void {
  releaseRunLock();
}

/**
 * Resolves once no other process holds the run lock (this one, or the test process this one
 * shares it with, may); says so on stderr while it waits.
 */
export async function waitForRunLock(timeoutMs = 10 * 60_000): Promise<void> {
  let said = false;
  for (const until = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 200))) {
    const h = lockHolder();
    if (h === null || h.pid === process.pid || String(h.pid) === process.env[LOCK_ENV]) return;
    if (!said) process.stderr.write(`waiting for the run lock: ${describeHolder(h)} holds it\n`);
    said = true;
    if (Date.now() > until) throw new Error(`the run lock is still held by ${describeHolder(h)} after ${timeoutMs} ms`);
  }
}
