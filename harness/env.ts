// The machine a run happened on, recorded in every results file.
import { execFileSync } from 'node:child_process';
import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import type { Env, Pinning } from './results.js';

function tryExec(file: string, args: string[]): string | null {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * With two or more CPUs and taskset present, the server gets the last CPU and the client (load
 * generator) the others, so they never compete for a core. Otherwise nothing is pinned, and the
 * method says why.
 */
export function choosePinning(wanted: boolean): Pinning {
  const n = availableParallelism();
  if (!wanted) return { server: null, client: null, method: 'off (--pin off)' };
  if (n < 2) return { server: null, client: null, method: `none: ${n} CPU available` };
  if (tryExec('taskset', ['-c', '0', 'true']) === null) return { server: null, client: null, method: 'none: taskset not found' };
  const client = Array.from({ length: n - 1 }, (_, i) => i);
  return { server: [n - 1], client, method: 'taskset' };
}

export function collectEnv(pinning: Pinning): Env {
  return {
    node: process.version,
    platform: `${platform()}-${arch()}`,
    kernel: release(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: availableParallelism(),
    memoryBytes: totalmem(),
    gitCommit: tryExec('git', ['rev-parse', 'HEAD']),
    pinning,
  };
}
