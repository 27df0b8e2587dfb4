// Tests that start a bench of their own wait while another run holds the machine's run lock (a
// benchmark, or bench:ci from another test file): the bench would refuse to start, rightly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_DIR } from '../../harness/guard.js';

function holder(): number | null {
  try {
    const pid = (JSON.parse(readFileSync(join(STATE_DIR, 'run.lock'), 'utf8')) as { pid: number }).pid;
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Resolves once no live process holds the run lock; says so on stderr while it waits. */
export async function waitForRunLock(timeoutMs = 10 * 60_000): Promise<void> {
  let said = false;
  for (const until = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 200))) {
    const pid = holder();
    if (pid === null || pid === process.pid) return;
    if (!said) process.stderr.write(`waiting for the run lock: pid ${pid} holds it\n`);
    said = true;
    if (Date.now() > until) throw new Error(`the run lock is still held by pid ${pid} after ${timeoutMs} ms`);
  }
}
