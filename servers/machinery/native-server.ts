// The C servers of native/: each compiled on first use and run as a child in this process's group
// (so the harness samples it and a signal to the group reaches it). This module only builds,
// starts, relays the port and stops them; native-epoll.ts, native-threads.ts and native-fork.ts
// each name one.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ModelOptions, RunningServer } from '../types.js';

const START_TIMEOUT_MS = 10_000;

/** One C server: its model name, source file, binary and extra compiler flags. */
export interface NativeServer {
  model: string;
  source: string;
  binary: string;
  cflags: string[];
}

/** An error the entry turns into an `error` line; `code` says which. */
class NativeError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** The folder holding package.json, above this module (servers never import harness/paths). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new NativeError('ENOROOT', 'native servers: cannot find the project root (no package.json above the module)');
    dir = up;
  }
  return dir;
}

function compile(n: NativeServer, root: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('cc', ['-O2', ...n.cflags, '-o', out, n.source], { cwd: root }, (e, _stdout, stderr) => {
      if (!e) return resolve();
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new NativeError('ENOCOMPILER', `${n.model}: no C compiler: "cc" is not on PATH (needed to build ${n.source})`));
      } else {
        reject(new NativeError('EBUILD', `${n.model}: cc -O2 ${n.cflags.join(' ')} -o ${n.binary} ${n.source} failed: ${stderr.trim() || e.message}`));
      }
    });
  });
}

/** Newest change to the C sources: a server and the headers every server includes. */
function sourcesMtime(root: string, source: string): number {
  const headers = readdirSync(join(root, 'native')).filter((f) => f.endsWith('.h')).map((f) => join(root, 'native', f));
  return Math.max(...[join(root, source), ...headers].map((f) => statSync(f).mtimeMs));
}

/** Path of an up-to-date binary, building it when missing or older than its sources. */
async function ensureBinary(n: NativeServer, root: string): Promise<string> {
  const binary = join(root, n.binary);
  if (existsSync(binary) && statSync(binary).mtimeMs >= sourcesMtime(root, n.source)) return binary;
  mkdirSync(dirname(binary), { recursive: true });
  // A private name, then an atomic rename: two servers starting at once never run a half-written file.
  const tmp = `${binary}.${process.pid}.${Date.now()}.tmp`;
  try {
    await compile(n, root, tmp);
    renameSync(tmp, binary);
  } finally {
    rmSync(tmp, { force: true });
  }
  return binary;
}

function waitForPort(n: NativeServer, child: ChildProcess, exited: Promise<unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new NativeError('ETIMEDOUT', `${n.model}: no listening line within 10 s`)), START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const m = JSON.parse(line) as { event?: string; port?: number };
        if (m.event === 'listening' && typeof m.port === 'number') {
          clearTimeout(timer);
          resolve(m.port);
        } else if (m.event === 'limit') {
          writeSync(1, line + '\n'); // a thread or process the C server could not start: passed on as ours
        }
      } catch {
        // not a message: ignored
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new NativeError('ESTART', `${n.model}: ${n.binary} exited (${String(code)}) before listening`));
    });
  });
}

export async function startNative(n: NativeServer, o: ModelOptions): Promise<RunningServer> {
  const binary = await ensureBinary(n, projectRoot());
  // Not detached: the child stays in our process group, so stopping the group stops it too.
  const child = spawn(binary, ['--protocol', o.protocol, '--port', String(o.port), '--host', o.host], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'spawn error'));
  });
  let port: number;
  try {
    port = await waitForPort(n, child, exited);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    host: o.host,
    port,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
