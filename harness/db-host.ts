// The run's database on a --db-host: started there by the harness over ssh, inside the remote
// wrapper (remote-group.ts), as the embedded cluster database.ts makes on this machine, listening on
// loopback and on the host's own address, with pg_hba letting in the server host alone.
//
//   node dist/harness/db-host.js --auth scram|trust --max-connections N --listen ADDRESS --admit ADDRESS
//
// It prints one line when the cluster accepts connections ({"event":"database",...}, with the
// throwaway password the server host needs: it travels inside the ssh session, never on a command
// line), then answers one JSON line per request on stdin, each with its id:
//   {"db":"counters"}  the database's own counters (pg_stat_database)
//   {"db":"settle"}    once no session of the benchmark's is left
//   {"db":"begin"} / {"db":"end"} / {"db":"usage"}   the /proc sampler over a cell's window
// The sampler runs here because PostgreSQL's backends leave the postmaster's process group: they are
// followed by parent from the postmaster, which the wrapper's group sampler would miss. When stdin
// closes or a signal comes, the cluster is stopped and its folder removed; killed outright, its
// group is recorded here and the next run's preflight ends it (remote-group.js --reap).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { POSTGRES_AUTHS, startPostgres, type Database, type PostgresAuth } from './database.js';
import { scratchDir } from './guard.js';
import { TreeSampler } from './sampler.js';

const SAMPLE_MS = 100;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

const out = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');

function fail(message: string, code: number): never {
  process.stderr.write(`db-host: ${message}\n`);
  process.exit(code);
}

function parse(): { auth: PostgresAuth; maxConnections: number; listen: string; admit: string } {
  const { values } = parseArgs({
    options: { auth: { type: 'string' }, 'max-connections': { type: 'string' }, listen: { type: 'string' }, admit: { type: 'string' } },
  });
  const auth = values.auth as PostgresAuth;
  if (!POSTGRES_AUTHS.includes(auth)) fail(`--auth must be ${POSTGRES_AUTHS.join(' or ')}, got ${values.auth}`, 2);
  const maxConnections = Number(values['max-connections']);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) fail(`--max-connections must be a positive integer, got ${values['max-connections']}`, 2);
  for (const k of ['listen', 'admit'] as const) if (!IPV4.test(values[k] ?? '')) fail(`--${k} must be an IPv4 address, got ${values[k]}`, 2);
  return { auth, maxConnections, listen: values.listen!, admit: values.admit! };
}

async function main(): Promise<void> {
  const o = parse();
  scratchDir(); // made now, so a crash before the cluster exists leaves a folder the next run recognises
  let db: Database;
  try {
    db = await startPostgres({ auth: o.auth, maxConnections: o.maxConnections, cpus: null, url: null, across: { listen: o.listen, admit: o.admit } });
  } catch (e) {
    fail((e as Error).message, 1);
  }
  const sampler = new TreeSampler(db.child!.pid, 5, 'descendants');
  const ticker = setInterval(() => sampler.tick(), SAMPLE_MS);
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(ticker);
    await db.stop().catch(() => {});
    process.exit(code);
  };
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => void stop(0));
  void db.child!.exited.then((code) => {
    if (!stopping) fail(`the database exited (${code}); stderr: ${db.child!.stderrTail() || '(empty)'}`, 1);
  });
  const password = db.passwordFile === null ? null : readFileSync(db.passwordFile, 'utf8').trim();
  out({ event: 'database', port: db.port, user: db.user, database: db.database, password, info: db.info });
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    let req: { db?: string; id?: number; windowS?: number; timeline?: { intervalS: number; slots: number } };
    try {
      req = JSON.parse(line) as typeof req;
    } catch {
      return;
    }
    const answer = async (): Promise<unknown> => {
      if (req.db === 'counters') return { counters: await db.counters() };
      if (req.db === 'settle') return void (await db.settle());
      if (req.db === 'begin') return void sampler.begin();
      if (req.db === 'end') return void sampler.end();
      if (req.db === 'usage') return { usage: sampler.usage(), ...(req.timeline ? { memory: sampler.memoryTimeline(req.timeline.intervalS, req.timeline.slots) } : {}) };
      throw new Error(`unknown request ${JSON.stringify(req.db)}`);
    };
    answer().then(
      (v) => out({ event: 'db-answer', id: req.id, ...(v as object) }),
      (e: Error) => out({ event: 'db-answer', id: req.id, error: e.message }),
    );
  });
  input.on('close', () => void stop(0));
}

void main();
