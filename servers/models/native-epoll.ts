// The ceiling: native/epoll-server.c, the same single-threaded level-triggered epoll loop in C,
// compiled on first use and run as a child in this process's group (so the harness samples it and a
// signal to the group reaches it). This module only builds, starts, relays the port and stops it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ModelOptions, RunningServer } from '../types.js';

const SOURCE = 'native/epoll-server.c';
const BINARY = 'native/build/epoll-server';
const START_TIMEOUT_MS = 10_000;

/** An error the entry turns into an `error` line; `code` says which. */
export class NativeError extends Error {
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
    if (up === dir) throw new NativeError('ENOROOT', 'native-epoll: cannot find the project root (no package.json above the module)');
    dir = up;
  }
  return dir;
}

function compile(root: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('cc', ['-O2', '-o', out, SOURCE], { cwd: root }, (e, _stdout, stderr) => {
      if (!e) return resolve();
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new NativeError('ENOCOMPILER', `native-epoll: no C compiler: "cc" is not on PATH (needed to build ${SOURCE})`));
      } else {
        reject(new NativeError('EBUILD', `native-epoll: cc -O2 -o ${BINARY} ${SOURCE} failed: ${stderr.trim() || e.message}`));
      }
    });
  });
}

/** Path of an up-to-date binary, building it when missing or older than its source. */
async function ensureBinary(root: string): Promise<string> {
  const binary = join(root, BINARY);
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(join(root, SOURCE)).mtimeMs) return binary;
  mkdirSync(dirname(binary), { recursive: true });
  // A private name, then an atomic rename: two servers starting at once never run a half-written file.
  const tmp = `${binary}.${process.pid}.${Date.now()}.tmp`;
  try {
    await compile(root, tmp);
    renameSync(tmp, binary);
  } finally {
    rmSync(tmp, { force: true });
  }
  return binary;
}

function waitForPort(child: ChildProcess, exited: Promise<unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new NativeError('ETIMEDOUT', 'native-epoll: no listening line within 10 s')), START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const m = JSON.parse(line) as { event?: string; port?: number };
        if (m.event === 'listening' && typeof m.port === 'number') {
          clearTimeout(timer);
          resolve(m.port);
        }
      } catch {
        // not a message: ignored
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new NativeError('ESTART', `native-epoll: epoll-server exited (${String(code)}) before listening`));
    });
  });
}

export async function start(o: ModelOptions): Promise<RunningServer> {
  const binary = await ensureBinary(projectRoot());
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
    port = await waitForPort(child, exited);
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
