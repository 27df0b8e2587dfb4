// What a harness killed with SIGKILL leaves running is ended by the next run (endOrphans), whatever
// became of each group's leader: a group is recognised by the processes recorded in it (pid and
// start time), never by a pid alone, so a group whose leader died is still found, and a process
// that merely has a recorded number is never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { endOrphans, STATE_DIR } from '../../harness/guard.js';
import { dist } from '../../harness/paths.js';
import { groupMembers, readStat } from '../../harness/sampler.js';
import { tagged } from '../helpers/tagged.js';

const bench = dist('scripts/bench.js');

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

interface Recorded {
  pgid: number;
  command: string;
  members: { pid: number; startTicks: number }[];
}

function recorded(benchPid: number): Recorded[] {
  try {
    return (JSON.parse(readFileSync(join(STATE_DIR, `groups-${benchPid}.json`), 'utf8')) as { groups: Recorded[] }).groups;
  } catch {
    return [];
  }
}

const exited = (c: ChildProcess): Promise<unknown> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.on('exit', r)));

describe('clean-up after a SIGKILLed harness', () => {
  it('ends a process-per-connection server whose leader was killed first: its children are found by the members recorded', async () => {
    const tag = `CB_TEST_TAG=orphans-${process.pid}-${Date.now()}`;
    const [k, v] = tag.split('=') as [string, string];
    const out = mkdtempSync(join(tmpdir(), 'orphans-'));
    // Shares this test file's run lock (LOCK_ENV), as every bench a test starts.
    const run = spawn(process.execPath, [bench, '--scenarios', 'steady', '--models', 'process-per-connection', '--protocols', 'echo', '--concurrency', '3', '--duration', '30s', '--warmup', '0.2s', '--out', out], {
      env: { ...process.env, [k]: v },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    run.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      // Under load: the acceptor and one child per connection, all four in the record.
      const server = (): Recorded | undefined => recorded(run.pid!).find((r) => r.command.includes('--model process-per-connection'));
      await until('the server group and its children to be recorded', () => (server()?.members.length ?? 0) >= 4 || run.exitCode !== null);
      expect(run.exitCode, err).toBeNull();
      const pgid = server()!.pgid;
      // Stopped first, so that it cannot notice its server's end; then the acceptor; then the harness.
      process.kill(run.pid!, 'SIGSTOP');
      process.kill(pgid, 'SIGKILL');
      run.kill('SIGKILL');
      await exited(run);
      await until('the acceptor to be gone', () => readStat(pgid) === null || readStat(pgid)!.state === 'Z');
      // Its children still serve their connections, leaderless, with the load client still sending
      // (and the child of the verification's connection may not have ended yet).
      expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(3);
      expect(tagged(tag).length).toBeGreaterThanOrEqual(4); // 3 children and the client

      const ended = endOrphans(); // what the next run does first
      expect(ended.find((e) => e.pid === run.pid)?.groups).toBe(2); // the server's group and the client's
      await until('every process of that run to end', () => groupMembers(pgid).length === 0 && tagged(tag).length === 0, 10_000);
      expect(existsSync(join(STATE_DIR, `groups-${run.pid}.json`))).toBe(false);
    } finally {
      if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
    }
  }, 90_000);

  it('ends a recorded group only while a recorded member is still in it: a process that only has a recorded pid is left alone', async () => {
    // A group of its own (the way the harness starts every child), and a harness that is gone.
    const other = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const gone = spawnSync('true').pid!;
    try {
      await until('sleep to start', () => readStat(other.pid!) !== null);
      const s = readStat(other.pid!)!;
      expect(s.pgrp).toBe(other.pid);
      const write = (startTicks: number): void =>
        writeFileSync(join(STATE_DIR, `groups-${gone}.json`), JSON.stringify({ owner: { pid: gone, startTicks: 1 }, groups: [{ pgid: other.pid, command: 'sleep 60', members: [{ pid: other.pid, startTicks }] }] }));

      // The recorded process started at another time: this is another process with the same number.
      write(s.startTicks + 1);
      expect(endOrphans().find((e) => e.pid === gone)).toBeUndefined();
      expect(readStat(other.pid!)?.state).not.toBe('Z');
      expect(other.exitCode).toBeNull();
      expect(existsSync(join(STATE_DIR, `groups-${gone}.json`))).toBe(false);

      // The very process recorded, still in the group: the group is ended.
      write(s.startTicks);
      expect(endOrphans().find((e) => e.pid === gone)?.groups).toBe(1);
      await exited(other);
      expect(other.signalCode).toBe('SIGKILL');
    } finally {
      other.kill('SIGKILL');
    }
  });
});

afterAll(() => {
  endOrphans(); // whatever a failed test left
});
