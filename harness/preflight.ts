// What this machine must allow before a plan starts: the tools its models need, enough descriptors
// and local ports for its connections at once, CPUs to split, and a folder it can write.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { findModel } from '../schema/catalog.js';
import { checkDescriptors, PlanError } from '../schema/flags.js';
import { ephemeralPorts, openFilesLimit } from '../sys/limits.js';
import { onPath } from '../sys/path.js';
import type { Plan } from './plan.js';
import type { Slice } from './suites.js';

/** Leaves out models whose tool is missing, so one absent compiler never fails a whole run. */
export function available(models: string[]): { models: string[]; skipped: Plan['skipped'] } {
  const skipped: Plan['skipped'] = [];
  const kept = models.filter((m) => {
    const needs = findModel(m)?.requires; // external models check theirs per cell, as a limit
    if (needs === undefined || onPath(needs)) return true;
    skipped.push({ model: m, reason: `no C compiler: \`${needs}\` is not on PATH` });
    return false;
  });
  return { models: kept, skipped };
}

/** The server's CPUs must leave the client at least one. */
export function checkServerCpus(plan: Plan): void {
  const cpus = availableParallelism();
  if (plan.serverCpus !== null && plan.pin && plan.serverCpus >= cpus) {
    throw new PlanError(`--server-cpus: at most ${cpus - 1} on this machine (${cpus} CPUs; the client needs at least one), got ${plan.serverCpus}`);
  }
}

/**
 * The most connections a server holds at once, refused when the descriptor limit or the local port
 * range cannot hold them: every load connection, the idle ones too in that scenario, and in io-wait
 * a backend connection per waiting request.
 */
export function checkCapacity(plan: Plan): void {
  const held = (s: Slice): number => Math.max(...s.concurrency) * (s.scenario === 'io-wait' ? 2 : 1) + (s.scenario === 'idle' ? plan.idleConnections : 0);
  const most = Math.max(...plan.slices.map(held));
  const flag = plan.scenarios.includes('idle') ? '--concurrency/--idle-connections' : '--concurrency';
  checkDescriptors(most, openFilesLimit(), flag);
  checkPorts(most, flag);
}

/**
 * Refuses a plan whose connections at once cannot get a local port: the client's ports come from
 * ip_local_port_range. Churn reopens connections all the time, but the side that closes first
 * keeps TIME_WAIT: the server for HTTP (Connection: close), and for echo the client closes with a
 * reset (SO_LINGER 0), so neither leaves the client's ports waiting; what bounds a cell is how many
 * connections are open at once.
 */
export function checkPorts(connections: number, flag: string, range = ephemeralPorts()): void {
  if (range === null) return;
  const size = range.last - range.first + 1;
  if (connections > size) {
    throw new PlanError(`${flag}: ${connections} connections at once need as many local ports, but ip_local_port_range (${range.first}-${range.last}) has ${size}; widen it (sysctl net.ipv4.ip_local_port_range) or lower ${flag}`);
  }
}

/**
 * Creates `dir` one level at a time and writes a probe file in it. Node 20's recursive mkdir never
 * returns under /proc, and root passes every access() check, so only a real write tells.
 */
export function checkWritable(dir: string): void {
  try {
    const full = resolve(dir);
    let at = '/';
    for (const part of full.split('/').filter(Boolean)) {
      at = join(at, part);
      if (!existsSync(at)) mkdirSync(at);
    }
    const probe = join(full, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new PlanError(`--out: cannot write to "${dir}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
