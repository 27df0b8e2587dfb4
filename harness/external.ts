// External models: any program that serves echo or HTTP on a port, measured like our own models.
// They come from a models file (`--models-file`) or `--server-cmd NAME=COMMAND`. The harness picks
// a free port, starts the command in its own process group (pinned, sampled, ended like ours),
// waits until the port accepts a connection (or a configured line appears on stdout), and verifies
// it before any load. The command runs without a shell unless the entry says "shell": true.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import { PROTOCOLS, type Family, type Protocol } from '../servers/catalog.js';
import { startGroup, type Child } from './processes.js';

export interface Requirement {
  /** A program that must be on PATH. */
  command?: string;
  /** A Python module that the model's interpreter (its command's first word) must be able to import. */
  python?: string;
  /** The Debian package that provides it, named in the cell's reason when it is missing. */
  package: string;
}

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
    };
  });
}

function onPath(command: string): boolean {
  if (command.includes('/')) return existsSync(command);
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What is missing for this model to run here, as the cell's reason; null when nothing is. */
export function missingRequirement(m: ExternalModel): string | null {
  const needs: Requirement[] = [...(m.requires ?? [])];
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

export function substitute(m: ExternalModel, port: number, workers: number, protocol: Protocol): string[] {
  return m.command.map((a) => a.replaceAll('{port}', String(port)).replaceAll('{workers}', String(workers)).replaceAll('{protocol}', protocol));
}

export function startExternal(m: ExternalModel, port: number, workers: number, protocol: Protocol, cpus: number[] | null): Child {
  const argv = substitute(m, port, workers, protocol);
  const [file, args] = m.shell ? ['sh', ['-c', argv.join(' ')]] : [argv[0]!, argv.slice(1)];
  return startGroup(file, args, { cpus, cwd: m.cwd, env: { ...process.env, ...(m.env ?? {}) } });
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
