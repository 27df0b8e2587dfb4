// The Redis a job-queue model (py-rq) hands its work through: Debian's redis-server, started once per
// run when a model of the plan says `"needs": ["redis"]`, on a free loopback port, with no
// persistence, in its own folder under the scratch folder. It is a process group of ours like the
// embedded PostgreSQL (harness/database.ts): pinned to the client's CPUs, recorded so the next run
// ends it after a SIGKILLed harness, sampled in each cell, ended with everything else. Between cells
// it is emptied (FLUSHALL), so a cell never serves the jobs a killed server left queued.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { declaredScenarios, freePort, missingRequirement, type ExternalModel } from './external.js';
import { scratchDir } from './guard.js';
import { startGroup, stopGroup, type Child } from './processes.js';
import type { Plan } from './plan.js';
import type { Pinning, RedisInfo, RedisUsage, Results, Scenario } from '../schema/results.js';

/** What a models file may say a model needs the harness to run for it. */
export type Service = 'redis';
export const SERVICES: readonly Service[] = ['redis'];

/** The Debian package, and its program. */
export const REDIS_PACKAGE = 'redis-server';
const REDIS_SERVER = 'redis-server';
const START_MS = 10_000;

/**
 * The settings it is started with, recorded in the results: no snapshot, no append-only file (a job
 * queue for one cell keeps nothing), loopback only.
 */
export const REDIS_SETTINGS: Readonly<Record<string, string>> = {
  bind: '127.0.0.1',
  save: '',
  appendonly: 'no',
  'protected-mode': 'yes',
  daemonize: 'no',
  loglevel: 'warning',
};

export class RedisError extends Error {
  readonly code = 'EREDIS';
}

export function needsRedis(m: ExternalModel | undefined): boolean {
  return m?.needs?.includes('redis') === true;
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why a model that needs Redis cannot have it here (a cell's `limit` reason), or null. */
export function missingRedis(m: ExternalModel): string | null {
  if (!needsRedis(m) || onPath(REDIS_SERVER)) return null;
  return `${m.name} needs Redis (its entry says "needs": ["redis"]): ${REDIS_SERVER} is not on PATH (Debian package: ${REDIS_PACKAGE})`;
}

/** Counters from INFO, cumulative since Redis started. */
export interface RedisCounters {
  commands: number;
  connections: number;
}

export interface Redis {
  port: number;
  child: Child;
  info: RedisInfo;
  running(): boolean;
  /** Empties every database: the next cell starts with no queue and no results. */
  flush(): Promise<void>;
  counters(): Promise<RedisCounters>;
  stop(): Promise<void>;
}

/**
 * One command over a fresh connection, its reply as text (RESP: `+OK`, `$n` bulk). Each call opens
 * its own connection, which counts in `total_connections_received`: usageBetween takes it out.
 */
export function redisCommand(port: number, args: string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const fail = (e: Error): void => {
      s.destroy();
      reject(e);
    };
    s.setTimeout(timeoutMs, () => fail(new RedisError(`redis ${args[0]}: no answer within ${timeoutMs} ms`)));
    s.on('error', fail);
    s.on('connect', () => s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      const text = Buffer.concat(chunks).toString('utf8');
      const reply = parseReply(text);
      if (reply === undefined) return;
      s.end();
      if (reply instanceof Error) reject(reply);
      else resolve(reply);
    });
  });
}

/** A complete simple, error or bulk reply; undefined while incomplete. */
function parseReply(text: string): string | Error | undefined {
  const eol = text.indexOf('\r\n');
  if (eol < 0) return undefined;
  const head = text.slice(0, eol);
  if (head[0] === '+' || head[0] === ':') return head.slice(1);
  if (head[0] === '-') return new RedisError(`redis: ${head.slice(1)}`);
  if (head[0] === '$') {
    const n = Number(head.slice(1));
    const body = Buffer.from(text.slice(eol + 2), 'utf8');
    return body.length >= n + 2 ? body.subarray(0, n).toString('utf8') : undefined;
  }
  return new RedisError(`redis: unexpected reply ${JSON.stringify(head)}`);
}

/** A field of INFO's text (`name:value` lines). */
export function infoField(info: string, name: string): string | null {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(info);
  return m ? m[1]!.trim() : null;
}

export async function startRedis(o: { cpus: number[] | null }): Promise<Redis> {
  if (!onPath(REDIS_SERVER)) throw new RedisError(`a model needs Redis but ${REDIS_SERVER} is not on PATH (Debian package: ${REDIS_PACKAGE})`);
  const dir = join(scratchDir(), `redis-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { mode: 0o700 });
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const port = await freePort();
  const settings = { ...REDIS_SETTINGS, port: String(port), dir };
  // `--save ''` as its own, empty argument: redis-server reads it as `save ""`, no snapshots.
  const args = Object.entries(settings).flatMap(([k, v]) => [`--${k}`, v]);
  const child = startGroup(REDIS_SERVER, args, { cpus: o.cpus, cwd: dir });
  let exited = false;
  void child.exited.then(() => (exited = true));
  try {
    const version = await waitPing(port, child, () => exited);
    const info: RedisInfo = { version, url: `redis://127.0.0.1:${port}`, settings: { ...REDIS_SETTINGS } };
    return {
      port,
      child,
      info,
      running: () => !exited,
      flush: async () => void (await redisCommand(port, ['FLUSHALL'])),
      counters: async () => {
        const text = await redisCommand(port, ['INFO', 'stats']);
        return { commands: Number(infoField(text, 'total_commands_processed') ?? 0), connections: Number(infoField(text, 'total_connections_received') ?? 0) };
      },
      stop: async () => {
        await stopGroup(child, 3000);
        remove();
      },
    };
  } catch (e) {
    await stopGroup(child, 1000);
    remove();
    throw e instanceof RedisError ? e : new RedisError(`redis-server did not start: ${(e as Error).message}; stderr: ${child.stderrTail() || '(empty)'}`);
  }
}

async function waitPing(port: number, child: Child, exited: () => boolean): Promise<string> {
  for (const until = Date.now() + START_MS; ;) {
    try {
      await redisCommand(port, ['PING'], 500);
      const server = await redisCommand(port, ['INFO', 'server']);
      return `Redis ${infoField(server, 'redis_version') ?? '?'}`;
    } catch (e) {
      if (exited()) throw new RedisError(`redis-server exited while starting; stderr: ${child.stderrTail() || '(empty)'}`);
      if (Date.now() > until) throw new RedisError(`redis-server did not answer PING within ${START_MS} ms: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }
}

/**
 * A cell's figures of Redis, from counters read before the server started and after it stopped.
 * Our own readings (INFO and FLUSHALL, one connection and command each) are left out: the `before`
 * reading and its flush come before, the `after` reading's INFO is counted by Redis as it runs.
 */
export function redisUsageBetween(before: RedisCounters, after: RedisCounters, cpuPercent: number | null, pssPeakBytes: number | null, threadsPeak: number): RedisUsage {
  return {
    cpuPercent,
    pssPeakBytes,
    threadsPeak,
    commands: Math.max(0, after.commands - before.commands - 1),
    connectionsOpened: Math.max(0, after.connections - before.connections - 1),
  };
}

/**
 * Whether a cell of the plan will run a model that needs Redis: one whose entry says so, in a
 * scenario it declares, with its requirements met (a cell that will be a limit needs nothing).
 */
export function redisNeeded(plan: Pick<Plan, 'external'>, cells: readonly { model: string; scenario: Scenario }[]): boolean {
  return cells.some((c) => {
    const m = plan.external.find((e) => e.name === c.model);
    return m !== undefined && needsRedis(m) && declaredScenarios(m).includes(c.scenario) && missingRequirement(m, c.scenario) === null && missingRedis(m) === null;
  });
}

/** Starts the run's Redis when a cell needs it, on the client's CPUs (it never takes the server's); records it in the results' settings. */
export async function startRunRedis(plan: Pick<Plan, 'external'>, cells: readonly { model: string; scenario: Scenario }[], pinning: Pinning, results: Results, log: (line: string) => void): Promise<Redis | null> {
  if (!redisNeeded(plan, cells)) return null;
  const t0 = Date.now();
  const redis = await startRedis({ cpus: pinning.client });
  results.settings.redis = redis.info;
  log(`redis: ${redis.info.version} at ${redis.info.url}, no persistence (save "", appendonly no), emptied before each cell, ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return redis;
}
