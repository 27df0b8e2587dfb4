// The machine a run happened on, recorded in every results file.
import { execFileSync } from 'node:child_process';
import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import type { Env, Pinning } from '../schema/results.js';

function tryExec(file: string, args: string[]): string | null {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** CPUs the server gets when --server-cpus is not given: one below four CPUs, else half. */
function defaultServerCpus(n: number): number {
  return n < 4 ? 1 : Math.floor(n / 2);
}

/**
 * With two or more CPUs and taskset present, the server gets the last `serverCpus` CPUs and the
 * client (load generator) the others, so they never compete for a core. Otherwise nothing is
 * pinned, and the method says why.
 */
export function choosePinning(wanted: boolean, serverCpus: number | null = null): Pinning {
  const n = availableParallelism();
  if (!wanted) return { server: null, client: null, method: 'off (--pin off)' };
  if (n < 2) return { server: null, client: null, method: `none: ${n} CPU available` };
  if (tryExec('taskset', ['-c', '0', 'true']) === null) return { server: null, client: null, method: 'none: taskset not found' };
  const s = Math.min(n - 1, serverCpus ?? defaultServerCpus(n));
  const client = Array.from({ length: n - s }, (_, i) => i);
  const server = Array.from({ length: s }, (_, i) => n - s + i);
  return { server, client, method: 'taskset' };
}

/** Load threads when --client-threads is not given: one per client CPU (half the machine unpinned). */
export function defaultClientThreads(p: Pinning): number {
  return p.client ? p.client.length : Math.max(1, Math.floor(availableParallelism() / 2));
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
