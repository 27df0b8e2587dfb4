// The child processes a per-process model has started, so close() can end every one and wait for it.
import type { ChildProcess } from 'node:child_process';

/** After SIGTERM, how long a child has before SIGKILL, ms (blocked children die at once: no handler). */
const KILL_AFTER_MS = 2000;

export class ChildSet {
  private readonly live = new Map<ChildProcess, Promise<void>>();

  /**
   * Tracks `child` until it exits. `onStartError` is called when it never started (spawn reported
   * EAGAIN, EMFILE ... as an 'error' event); an 'error' after a successful start is ignored here.
   */
  add(child: ChildProcess, onStartError?: (err: Error) => void): void {
    const gone = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.on('error', (err) => {
        if (child.pid !== undefined) return;
        onStartError?.(err);
        resolve();
      });
    });
    this.live.set(child, gone);
    void gone.then(() => this.live.delete(child));
  }

  get size(): number {
    return this.live.size;
  }

  /** SIGTERM to every child, SIGKILL to any still there after KILL_AFTER_MS; resolves when all have exited. */
  async endAll(): Promise<void> {
    const children = [...this.live.keys()];
    for (const c of children) c.kill('SIGTERM');
    const all = Promise.all(this.live.values());
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), KILL_AFTER_MS)));
    if ((await Promise.race([all, late])) === 'late') {
      for (const c of this.live.keys()) c.kill('SIGKILL');
      await all;
    }
    clearTimeout(timer);
  }
}

/** How a child ended, for a limit reason: `exit code 1`, `SIGKILL`. */
export function howExited(code: number | null, signal: string | null): string {
  return signal ?? `exit code ${code}`;
}
