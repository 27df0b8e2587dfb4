// External models: any program that serves echo or HTTP on a port, measured like our own models.
// They come from a models file (`--models-file`) or `--server-cmd NAME=COMMAND`. The harness picks
// a free port, starts the command in its own process group (pinned, sampled, ended like ours),
// waits until the port accepts a connection (or a configured line appears on stdout), and verifies
// it before any load. The command runs without a shell unless the entry says "shell": true.
//
// The scenario contract: a program learns its cell from environment variables (contractEnv), never
// from its command line, where a password would be public: the scenario, protocol, port and
// workers; in io-wait the backend, how to reach it (PostgreSQL's login with the path of its 0600
// password file, the exact query, or the service's port) and how to hold its connections; in cpu
// the microseconds of work, which the program calibrates for itself and reports on a JSON line
// (readCalibration). An entry declares the scenarios it serves; any other is a `limit`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import { PROTOCOLS, SCENARIOS, type Family, type Protocol, type Scenario } from '../schema/catalog.js';
import { ROWS } from '../protocols/backend-session.js';
import { worldQuerySql } from '../protocols/postgres.js';
import type { EventMessage } from '../schema/messages.js';
import type { Work } from '../schema/work.js';
import { onPath } from '../sys/path.js';
import { startGroup, type Child } from './processes.js';

export interface Requirement {
  /** A program that must be on PATH. */
  command?: string;
  /** A Python module that the model's interpreter (its command's first word) must be able to import. */
  python?: string;
  /** The Debian package that provides it, named in the cell's reason when it is missing. */
  package: string;
  /** Needed only in these scenarios (a database driver in io-wait); by default in every one. */
  scenarios?: Scenario[];
}

/** The scenarios a program serves when its entry declares none: those that need only its routes. */
const DEFAULT_EXTERNAL_SCENARIOS: readonly Scenario[] = ['steady', 'idle', 'churn'];

/** How many io-wait queries a program holds at once, for the cell's ideal. */
export type ExternalWaits = 'pool' | 'connections' | 'workers';
const WAITS: readonly ExternalWaits[] = ['pool', 'connections', 'workers'];
const CPU_LANES = ['one', 'workers', 'connections'] as const;

export interface ExternalModel {
  name: string;
  family: Family;
  /** argv, with `{port}`, `{workers}` and `{protocol}` replaced; one string when `shell` is true. */
  command: string[];
  protocols: Protocol[];
  /** Folder the command runs in (relative paths are relative to the models file). */
  cwd?: string;
  env?: Record<string, string>;
  /** Run the command through `sh -c` (off unless asked for). */
  shell?: boolean;
  /** A line on stdout that means ready, as a regular expression; by default the port accepting a connection is. */
  readyLine?: string;
  /** How long the program may take to become ready, seconds (default 15). */
  readyTimeoutS?: number;
  /** A command whose first output line is recorded as the program's version. */
  version?: string[];
  requires?: Requirement[];
  description?: string;
  /**
   * What verification asks before load: `full` (the default: GET /, pipelining, POST /echo, a 404)
   * or `basic` for a server that cannot echo bodies (nginx): the same without POST /echo.
   */
  checks?: 'full' | 'basic';
  /**
   * The scenarios it serves (default DEFAULT_EXTERNAL_SCENARIOS): io-wait, cpu and payload ask it to
   * follow the scenario contract (contractEnv) or to answer GET /bytes/N.
   */
  scenarios?: Scenario[];
  /**
   * io-wait: how many queries it holds at once, for the ideal: `pool` (default: up to CB_DB_POOL,
   * or one per request in flight), `connections` (a backend connection per client connection, as
   * a thread or process per connection keeps) or `workers` (at most --workers, a fixed pool).
   */
  waits?: ExternalWaits;
  /** cpu: how many requests burn CPU at once, for the ideal: one thread, --workers, or one per connection. Absent: no ideal. */
  cpuLanes?: 'one' | 'workers' | 'connections';
  /**
   * Services the harness runs for it, once per run: `redis` (a job queue's broker; the program
   * learns its address from CB_REDIS_HOST and CB_REDIS_PORT). Started only when a cell needs it.
   */
  needs?: 'redis'[];
}

export class ExternalError extends Error {
  readonly code = 'EEXTERNAL';
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * `NAME=COMMAND` from --server-cmd: a command line split on spaces (no shell). It serves both
 * protocols when it takes `{protocol}`, else HTTP only.
 */
export function parseServerCmd(raw: string, builtIn: readonly string[]): ExternalModel {
  const eq = raw.indexOf('=');
  const name = eq > 0 ? raw.slice(0, eq) : '';
  const command = raw.slice(eq + 1).trim().split(/\s+/).filter(Boolean);
  if (!NAME.test(name) || command.length === 0) {
    throw new ExternalError(`--server-cmd: expected NAME=COMMAND such as "mine=./server --port {port}", got "${raw}"`);
  }
  if (builtIn.includes(name)) throw new ExternalError(`--server-cmd: "${name}" is a built-in model; choose another name`);
  if (!command.some((a) => a.includes('{port}'))) throw new ExternalError(`--server-cmd: the command of "${name}" must take the port as {port}`);
  const protocols: Protocol[] = command.some((a) => a.includes('{protocol}')) ? ['echo', 'http'] : ['http'];
  return { name, family: 'external', command, protocols };
}

/** Reads and checks a models file: `{ "models": [ {name, command, protocols, ...}, ... ] }`. */
export function readModelsFile(path: string, builtIn: readonly string[]): ExternalModel[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExternalError(`--models-file: cannot read ${path}: ${code ?? 'not JSON'}`);
  }
  const list = (data as { models?: unknown })?.models;
  if (!Array.isArray(list) || list.length === 0) throw new ExternalError(`--models-file: ${path} has no "models" list`);
  const base = dirname(resolve(path));
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const m = raw as Partial<ExternalModel> & { command?: unknown };
    const where = `--models-file: ${path}: model ${i + 1}${typeof m.name === 'string' ? ` ("${m.name}")` : ''}`;
    if (typeof m.name !== 'string' || !NAME.test(m.name)) throw new ExternalError(`${where}: "name" must be lower-case letters, digits, ".", "_" or "-"`);
    if (builtIn.includes(m.name) || seen.has(m.name)) throw new ExternalError(`${where}: the name is already taken`);
    seen.add(m.name);
    const command = typeof m.command === 'string' ? [m.command] : m.command;
    if (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string')) {
      throw new ExternalError(`${where}: "command" must be a list of strings (or one string with "shell": true)`);
    }
    if (typeof m.command === 'string' && m.shell !== true) throw new ExternalError(`${where}: a command given as one string needs "shell": true; otherwise give a list`);
    if (!command.some((a: string) => a.includes('{port}'))) throw new ExternalError(`${where}: the command must take the port as {port}`);
    const protocols = m.protocols ?? ['http'];
    if (!Array.isArray(protocols) || protocols.length === 0 || protocols.some((p) => !PROTOCOLS.includes(p))) {
      throw new ExternalError(`${where}: "protocols" must list ${PROTOCOLS.join(' and/or ')}`);
    }
    if (m.checks !== undefined && m.checks !== 'full' && m.checks !== 'basic') throw new ExternalError(`${where}: "checks" must be "full" or "basic"`);
    checkShape(m, where);
    return {
      name: m.name,
      family: (m.family ?? 'external') as Family,
      command: command as string[],
      protocols: protocols as Protocol[],
      cwd: m.cwd ? resolve(base, m.cwd) : base,
      ...(m.env ? { env: m.env } : {}),
      ...(m.shell ? { shell: true } : {}),
      ...(m.readyLine ? { readyLine: m.readyLine } : {}),
      ...(typeof m.readyTimeoutS === 'number' && m.readyTimeoutS > 0 ? { readyTimeoutS: m.readyTimeoutS } : {}),
      ...(m.version ? { version: m.version } : {}),
      ...(m.requires ? { requires: m.requires } : {}),
      ...(m.description ? { description: m.description } : {}),
      ...(m.checks ? { checks: m.checks } : {}),
      ...(m.scenarios ? { scenarios: m.scenarios } : {}),
      ...(m.waits ? { waits: m.waits } : {}),
      ...(m.cpuLanes ? { cpuLanes: m.cpuLanes } : {}),
      ...(m.needs ? { needs: m.needs } : {}),
    };
  });
}

const isScenarioList = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((x) => SCENARIOS.includes(x as Scenario));

/** The scenario fields of an entry: known scenarios, and the shapes the ideal understands. */
function checkShape(m: Partial<ExternalModel>, where: string): void {
  if (m.scenarios !== undefined && !isScenarioList(m.scenarios)) throw new ExternalError(`${where}: "scenarios" must list ${SCENARIOS.join(', ')}`);
  if (m.waits !== undefined && !WAITS.includes(m.waits)) throw new ExternalError(`${where}: "waits" must be ${WAITS.join(', ')}`);
  if (m.cpuLanes !== undefined && !CPU_LANES.includes(m.cpuLanes)) throw new ExternalError(`${where}: "cpuLanes" must be ${CPU_LANES.join(', ')}`);
  if (m.needs !== undefined && !(Array.isArray(m.needs) && m.needs.every((n) => n === 'redis'))) throw new ExternalError(`${where}: "needs" must list services the harness runs: redis`);
  for (const r of m.requires ?? []) {
    if (r.scenarios !== undefined && !isScenarioList(r.scenarios)) throw new ExternalError(`${where}: a requirement's "scenarios" must list ${SCENARIOS.join(', ')}`);
  }
}

/** The scenarios a program serves: what its entry declares, or the defaults. */
export function declaredScenarios(m: ExternalModel): readonly Scenario[] {
  return m.scenarios ?? DEFAULT_EXTERNAL_SCENARIOS;
}

/** What is missing for this model to run a cell of `scenario` here, as the cell's reason; null when nothing is. */
export function missingRequirement(m: ExternalModel, scenario?: Scenario): string | null {
  const needs: Requirement[] = (m.requires ?? []).filter((r) => !r.scenarios || scenario === undefined || r.scenarios.includes(scenario));
  if (!m.shell && !needs.some((r) => r.command === m.command[0])) needs.unshift({ command: m.command[0]!, package: m.command[0]! });
  for (const r of needs) {
    if (r.command && !onPath(r.command)) return `${m.name} needs ${r.command}, which is not on PATH (Debian package: ${r.package})`;
    if (r.python) {
      const python = m.shell ? 'python3' : m.command[0]!;
      try {
        execFileSync(python, ['-c', `import ${r.python}`], { stdio: 'ignore' });
      } catch {
        return `${m.name} needs the Python module ${r.python}, which ${python} cannot import (Debian package: ${r.package})`;
      }
    }
  }
  return null;
}

/** The first line a version command prints, on stdout or (nginx -v) stderr, or null. */
export function versionLine(m: ExternalModel): string | null {
  if (!m.version) return null;
  const r = spawnSync(m.version[0]!, m.version.slice(1), { encoding: 'utf8', cwd: m.cwd, timeout: 5000 });
  const text = `${r.stdout ?? ''}`.trim() || `${r.stderr ?? ''}`.trim();
  return text ? text.split('\n')[0]! : null;
}

/** A port the kernel says is free now (the program binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolvePort(port));
    });
  });
}

function substitute(m: ExternalModel, port: number, workers: number, protocol: Protocol): string[] {
  return m.command.map((a) => a.replaceAll('{port}', String(port)).replaceAll('{workers}', String(workers)).replaceAll('{protocol}', protocol));
}

/**
 * Starts the program with its entry's variables and the cell's contract over the harness's
 * environment, from which every contract variable is removed first: a program never sees a stale one.
 */
export function startExternal(m: ExternalModel, port: number, workers: number, protocol: Protocol, cpus: number[] | null, contract: Record<string, string> = {}): Child {
  const argv = substitute(m, port, workers, protocol);
  const [file, args] = m.shell ? ['sh', ['-c', argv.join(' ')]] : [argv[0]!, argv.slice(1)];
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONTRACT_VARIABLES.includes(k)));
  return startGroup(file, args, { cpus, cwd: m.cwd, env: { ...inherited, ...(m.env ?? {}), ...contract } });
}

/** Every variable of the scenario contract (README: "Measure your own server"). */
export const CONTRACT_VARIABLES: readonly string[] = [
  'CB_SCENARIO', 'CB_PROTOCOL', 'CB_PORT', 'CB_WORKERS',
  'CB_BACKEND', 'CB_BACKEND_CONNECTIONS', 'CB_DB_POOL', 'CB_BACKEND_DELAY_MS',
  'CB_PG_HOST', 'CB_PG_PORT', 'CB_PG_USER', 'CB_PG_DATABASE', 'CB_PG_PASSWORD_FILE', 'CB_PG_QUERY', 'CB_PG_ROWS',
  'CB_SERVICE_HOST', 'CB_SERVICE_PORT', 'CB_WORK_US', 'CB_REDIS_HOST', 'CB_REDIS_PORT',
];

/** What a cell asks of a program, besides its Work. */
export interface ContractCell {
  scenario: Scenario;
  protocol: Protocol;
  port: number;
  workers: number;
  /** io-wait: how long the backend holds each query, ms. */
  backendDelayMs: number;
  /** cpu: microseconds of CPU per reply. */
  workUs: number;
}

/**
 * The scenario contract for one cell, as environment variables. The password is never among them:
 * CB_PG_PASSWORD_FILE names the 0600 file the harness wrote (absent under trust). CB_PG_QUERY is the
 * exact SQL our models prepare, the row id as $1; its row must have randomnumber =
 * (id × 2654435761 mod 10000) + 1. The service answers `Q` + 8 hex digits + LF with `A`, the same
 * digits, `.` padding and LF: 64 bytes.
 */
export function contractEnv(c: ContractCell, work: Work, redisPort: number | null = null): Record<string, string> {
  const env: Record<string, string> = { CB_SCENARIO: c.scenario, CB_PROTOCOL: c.protocol, CB_PORT: String(c.port), CB_WORKERS: String(c.workers) };
  if (redisPort !== null) Object.assign(env, { CB_REDIS_HOST: '127.0.0.1', CB_REDIS_PORT: String(redisPort) });
  if (work.kind === 'io-wait') {
    Object.assign(env, { CB_BACKEND: work.backend, CB_BACKEND_CONNECTIONS: work.connections, CB_DB_POOL: String(work.pool), CB_BACKEND_DELAY_MS: String(c.backendDelayMs) });
    if (work.backend === 'postgres') {
      const pg = work.postgres!;
      Object.assign(env, {
        CB_PG_HOST: work.backendHost, CB_PG_PORT: String(work.backendPort), CB_PG_USER: pg.user, CB_PG_DATABASE: pg.database,
        CB_PG_QUERY: worldQuerySql(pg.delayMs), CB_PG_ROWS: String(ROWS),
        ...(pg.passwordFile !== null ? { CB_PG_PASSWORD_FILE: pg.passwordFile } : {}),
      });
    } else Object.assign(env, { CB_SERVICE_HOST: work.backendHost, CB_SERVICE_PORT: String(work.backendPort) });
  }
  if (c.scenario === 'cpu') env.CB_WORK_US = String(c.workUs);
  return env;
}

/** What a program reported of its own CPU loop: `{"event":"calibration","workUs":W,"iterations":N,"nsPerIteration":X}`. */
export interface Calibration {
  workUs: number;
  iterations: number;
  nsPerIteration: number;
}

/**
 * A calibration line, checked: undefined for any other line; throws for a calibration line that is
 * malformed or calibrated for other work than the cell's.
 */
export function readCalibration(msg: EventMessage, name: string, workUs: number): Calibration | undefined {
  if (msg.event !== 'calibration') return undefined;
  const { iterations, nsPerIteration } = msg;
  if (!Number.isInteger(iterations) || (iterations as number) < 1 || typeof nsPerIteration !== 'number' || !(nsPerIteration > 0)) {
    throw new Error(`${name}: its calibration line needs "iterations" (a positive integer) and "nsPerIteration" (a positive number): ${JSON.stringify(msg)}`);
  }
  if (msg.workUs !== workUs) throw new Error(`${name}: calibrated for ${String(msg.workUs)} µs of work, but the cell asks ${workUs} (CB_WORK_US)`);
  return { workUs, iterations: iterations as number, nsPerIteration };
}

/**
 * Resolves when the program is ready: its readyLine seen on stdout, or else the port accepting a
 * connection. Rejects when it exits first or the time runs out, with the tail of its stderr.
 */
export function waitReady(m: ExternalModel, child: Child, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let done = false;
    const finish = (e: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(poll);
      if (e) reject(e);
      else resolveReady();
    };
    const timer = setTimeout(
      () => finish(new Error(`${m.name} did not become ready (${m.readyLine ? `no line matching /${m.readyLine}/` : `port ${port} refused connections`}) within ${timeoutMs} ms; stderr: ${child.stderrTail() || '(empty)'}`)),
      timeoutMs,
    );
    void child.exited.then((code) => finish(new Error(`${m.name} exited (${code}) before it was ready; stderr: ${child.stderrTail() || '(empty)'}`)));
    let poll: NodeJS.Timeout | undefined;
    if (m.readyLine) {
      const re = new RegExp(m.readyLine);
      child.onLine((_msg, line) => re.test(line) && finish(null));
      return;
    }
    poll = setInterval(() => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        finish(null);
      });
      s.once('error', () => s.destroy());
    }, 50);
  });
}
