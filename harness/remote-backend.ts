// io-wait's backend on a --db-host, as the harness drives it: the run's embedded PostgreSQL
// (db-host.ts there, started once per run) or a cell's service stand-in (servers/backend.ts there),
// each inside the remote wrapper, reached by the server host's servers at the db host's address.
// Their figures come back as a local backend's do: the database's counters before and after the
// cell, the /proc sampler's usage over the window on the host it ran on.
import type { DatabaseAnswerMessage, DatabaseReadyMessage, RemoteUsageMessage } from '../schema/messages.js';
import type { BackendUsage, Cell, DatabaseInfo, ServerUsage } from '../schema/results.js';
import type { IoWaitWork } from '../schema/work.js';
import { delayOf, listeningPort, pooling, type CellSpec } from './cell.js';
import { usageBetween, type Counters, type PostgresAuth } from './database.js';
import { SECRET_FILE, type HostSpec, type HostsPlan } from './host-flags.js';
import { startRemote, stopRemote, type RemoteChild } from './hosts.js';
import type { Plan } from './plan.js';
import { waitForMessage } from './processes.js';

/** initdb and loading `world` on a host: 2 s here, more on a slow disk or a loaded host. */
const DATABASE_START_MS = 60_000;
const ANSWER_MS = 10_000;
const SERVICE_START_MS = 20_000;

/** The run's database on the db host, running until stop(). */
export interface RemoteDatabase {
  host: HostSpec;
  /** The db host's IPv4 address: where the servers connect. */
  address: string;
  port: number;
  user: string;
  database: string;
  /** For the server host's wrapper (--secret), never for a file or a command line here; null under trust. */
  password: string | null;
  info: DatabaseInfo;
  child: RemoteChild;
  counters(): Promise<Counters>;
  settle(): Promise<void>;
  /** The sampler on the db host: a window's begin and end (fire and forget), then its usage. */
  begin(): void;
  end(): void;
  usage(): Promise<ServerUsage>;
  stop(): Promise<void>;
}

export async function startRemoteDatabase(hp: HostsPlan, address: string, serverAddress: string, o: { auth: PostgresAuth; maxConnections: number }): Promise<RemoteDatabase> {
  const h = hp.db!;
  const child = startRemote(h, hp, ['node', `${hp.remoteDir}/dist/harness/db-host.js`, '--auth', o.auth, '--max-connections', String(o.maxConnections), '--listen', address, '--admit', serverAddress]);
  let ready: DatabaseReadyMessage;
  try {
    ready = await waitForMessage(child, (m) => (m.event === 'database' ? m : undefined), DATABASE_START_MS, `db host ${h.spec}: the embedded PostgreSQL`);
  } catch (e) {
    await stopRemote(child);
    throw new Error(`db host ${h.spec}: the database did not start: ${(e as Error).message}`);
  }
  let exited: number | string | null = null;
  void child.exited.then((c) => (exited = c));
  let next = 0;
  const ask = async (db: string): Promise<DatabaseAnswerMessage> => {
    if (exited !== null) throw new Error(`db host ${h.spec}: the database is no longer running (exited ${exited}); stderr: ${child.stderrTail() || '(empty)'}`);
    const id = ++next;
    const answer = waitForMessage(child, (m) => (m.event === 'db-answer' && m.id === id ? m : undefined), ANSWER_MS, `db host ${h.spec}: ${db}`);
    child.send({ db, id });
    const a = await answer;
    if (a.error !== undefined) throw new Error(`db host ${h.spec}: ${db}: ${a.error}`);
    return a;
  };
  return {
    host: h, address, port: ready.port, user: ready.user, database: ready.database, password: ready.password,
    info: { ...ready.info, host: h.spec }, child,
    counters: async () => (await ask('counters')).counters!,
    settle: async () => void (await ask('settle')),
    begin: () => child.send({ db: 'begin', id: 0 }),
    end: () => child.send({ db: 'end', id: 0 }),
    usage: async () => (await ask('usage')).usage!,
    stop: () => stopRemote(child),
  };
}

/** A cell's backend on the db host, as host-cell.ts uses it. */
export interface HostBackend {
  work: IoWaitWork;
  /** The server host's wrapper gets it as its first line (--secret); null: nothing to pass. */
  secret: string | null;
  /** Watched for an early end, and named in the message. */
  child: RemoteChild;
  begin(): void;
  end(): void;
  /** Once the server has stopped: the backend's figures for the cell. */
  finish(): Promise<Partial<Cell>>;
  stop(): Promise<void>;
}

/** The run's database for one cell: its counters are read before the server starts and after it stops. */
export async function useRemoteDatabase(db: RemoteDatabase | null, spec: CellSpec, plan: Plan): Promise<HostBackend> {
  if (db === null) throw new Error('io-wait on postgres: the run has no database (it did not start)');
  const before = await db.counters();
  return {
    work: {
      kind: 'io-wait', backend: 'postgres', backendHost: db.address, backendPort: db.port, ...pooling(spec),
      postgres: { user: db.user, database: db.database, passwordFile: db.password === null ? null : SECRET_FILE, delayMs: delayOf(spec, plan) },
    },
    secret: db.password,
    child: db.child,
    begin: () => db.begin(),
    end: () => db.end(),
    finish: async () => {
      // The sampler holds this window's figures until the next cell's begin.
      const u = await db.usage().catch(() => null);
      await db.settle();
      return { database: usageBetween(before, await db.counters(), u?.cpuPercent ?? null, u?.pssPeakBytes ?? null, u?.processesPeak ?? 0) };
    },
    stop: async () => {},
  };
}

/** The service stand-in for one cell, on the db host, listening on its address. */
export async function startRemoteService(hp: HostsPlan, address: string, spec: CellSpec, plan: Plan): Promise<HostBackend> {
  const h = hp.db!;
  const child = startRemote(h, hp, ['node', `${hp.remoteDir}/dist/servers/backend.js`, '--host', address, '--delay', `${delayOf(spec, plan)}ms`]);
  let stats: { queries: number; waitingPeak: number; connectionsPeak: number; connectionsOpened: number } | null = null;
  child.onLine((m) => {
    if (m?.event === 'backend-stats') stats = m;
  });
  let port: number;
  try {
    port = await waitForMessage(child, listeningPort, SERVICE_START_MS, `db host ${h.spec}: the io-wait service`);
  } catch (e) {
    await stopRemote(child);
    throw e;
  }
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopRemote(child);
  };
  return {
    work: { kind: 'io-wait', backend: 'service', backendHost: address, backendPort: port, ...pooling(spec) },
    secret: null,
    child,
    begin: () => child.send({ wrapper: 'begin' }),
    end: () => child.send({ wrapper: 'end' }),
    finish: async () => {
      const answer = waitForMessage(child, (m) => (m.event === 'remote-usage' ? m : undefined), 5000, `db host ${h.spec}: the service's sampler`);
      child.send({ wrapper: 'usage' });
      const usage = (await answer.catch(() => null)) as RemoteUsageMessage | null;
      await stop(); // its figures are printed as it stops, and passed on before the wrapper ends
      const s = stats as typeof stats;
      const service: BackendUsage = {
        cpuPercent: usage?.usage.cpuPercent ?? 0, queries: s?.queries ?? 0, waitingPeak: s?.waitingPeak ?? 0,
        connectionsPeak: s?.connectionsPeak ?? 0, connectionsOpened: s?.connectionsOpened ?? 0,
      };
      return { service };
    },
    stop,
  };
}
