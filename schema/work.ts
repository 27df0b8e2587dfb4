// What a request does besides moving bytes, by scenario: nothing (steady, idle, churn, payload),
// one query to the backend service before the reply (io-wait), or a fixed amount of CPU before the
// reply (cpu). Every model gets the same Work and applies it to every reply its protocol session
// produces, each in its own style: blocking models block, loops watch the backend socket, Node
// models await. This file holds the contract the harness and the servers share: the spec passed on
// the command line, and the CPU loop whose iterations the harness calibrates and the servers burn
// (an iteration means the same on both sides only if both run this loop).

/** io-wait: what a request waits on, and how the server reaches it. */
export interface IoWaitWork {
  kind: 'io-wait';
  /** postgres: a real database (embedded by default); service: the remote-service stand-in (servers/backend.ts). */
  backend: BackendKind;
  /** The backend's IPv4 address: loopback on one machine, the --db-host's address across machines. */
  backendHost: string;
  backendPort: number;
  /** pooled: connections opened once and reused; per-request: connect (and authenticate), query, close every time. */
  connections: 'pooled' | 'per-request';
  /**
   * Most backend connections one server process keeps at once when pooled; a request that finds
   * none free waits for one. 0: no cap (one per request in flight). Blocking models hold one per
   * thread or process whatever this says.
   */
  pool: number;
  /** postgres only: whom to log in as and how long the database holds each query. */
  postgres?: PostgresTarget;
}

export type BackendKind = 'postgres' | 'service';
export const BACKEND_KINDS: readonly BackendKind[] = ['postgres', 'service'];

export interface PostgresTarget {
  user: string;
  database: string;
  /** A 0600 file holding the password (never the password itself: command lines are public), or null for trust. */
  passwordFile: string | null;
  /** How long the database holds each query (pg_sleep), ms; 0 is a plain single-row select. */
  delayMs: number;
}

export type Work = { kind: 'none' } | IoWaitWork | { kind: 'cpu'; iterations: number };

export const NO_WORK: Work = { kind: 'none' };

const WORK_SHAPES =
  '{"kind":"none"}, {"kind":"io-wait","backend":"postgres"|"service","backendHost":"A.B.C.D","backendPort":N,"connections":"pooled"|"per-request","pool":N,"postgres":{...}} or {"kind":"cpu","iterations":N}';

/** The --work argument (JSON) of a server, a child or a thread; absent means none. */
export function parseWork(raw: string | undefined): Work {
  if (raw === undefined || raw === '') return NO_WORK;
  let w: Partial<Record<string, unknown>>;
  try {
    w = JSON.parse(raw) as Partial<Record<string, unknown>>;
  } catch {
    throw new Error(`--work: not JSON: ${raw}`);
  }
  if (w.kind === 'none') return NO_WORK;
  if (w.kind === 'io-wait') {
    const io = parseIoWait(w);
    if (io) return io;
  }
  if (w.kind === 'cpu' && Number.isInteger(w.iterations) && (w.iterations as number) >= 0) return { kind: 'cpu', iterations: w.iterations as number };
  throw new Error(`--work: expected ${WORK_SHAPES}, got ${raw}`);
}

function parseIoWait(w: Partial<Record<string, unknown>>): IoWaitWork | null {
  const backend = (w.backend ?? 'service') as BackendKind;
  const pool = w.pool ?? 0;
  // Absent in a spec written before --db-host: the backend was on this machine's loopback.
  const backendHost = w.backendHost ?? '127.0.0.1';
  if (typeof backendHost !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(backendHost)) return null;
  if (!BACKEND_KINDS.includes(backend) || !Number.isInteger(w.backendPort) || !Number.isInteger(pool) || (pool as number) < 0) return null;
  if (w.connections !== 'pooled' && w.connections !== 'per-request') return null;
  const io: IoWaitWork = { kind: 'io-wait', backend, backendHost, backendPort: w.backendPort as number, connections: w.connections, pool: pool as number };
  if (backend === 'service') return io;
  const pg = w.postgres as Partial<PostgresTarget> | undefined;
  if (!pg || typeof pg.user !== 'string' || typeof pg.database !== 'string' || !(pg.passwordFile === null || typeof pg.passwordFile === 'string')) return null;
  if (typeof pg.delayMs !== 'number' || !(pg.delayMs >= 0)) return null;
  return { ...io, postgres: { user: pg.user, database: pg.database, passwordFile: pg.passwordFile, delayMs: pg.delayMs } };
}

export function workArg(w: Work): string {
  return JSON.stringify(w);
}

// A sink the optimiser cannot see through, so the loop is never removed.
let sink = 0;

/**
 * Burns CPU deterministically: `iterations` rounds of xorshift32 from a fixed start (no memory
 * traffic, no allocation, the same work in every model and thread), so the result names the rounds
 * done. The harness calibrates iterations per microsecond once per run and passes the count.
 */
export function burn(iterations: number): number {
  // x stays a signed 32-bit integer throughout: a value that became a heap number (a >>> 0 above
  // 2^31) made V8 run this loop three times slower in some threads than in others. The start is
  // fixed, not the last call's result, so that the same count gives the same result in any thread.
  let x = 1;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  sink = x | 0;
  return sink;
}

/**
 * Iterations of burn() that take `workUs` microseconds on this machine: the median of several
 * timed batches after a warm-up, so a one-off stall does not set the figure.
 */
export function calibrate(workUs: number, now: () => number = () => performance.now()): { iterations: number; nsPerIteration: number } {
  const batch = 2_000_000;
  burn(batch); // warm-up: compiled before it is timed
  const per: number[] = [];
  for (let k = 0; k < 7; k++) {
    const t0 = now();
    burn(batch);
    per.push(((now() - t0) * 1e6) / batch);
  }
  per.sort((a, b) => a - b);
  const nsPerIteration = per[3]!;
  return { iterations: Math.max(1, Math.round((workUs * 1000) / nsPerIteration)), nsPerIteration };
}
