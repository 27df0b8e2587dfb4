// What a request does besides moving bytes, by scenario: nothing (steady, idle, churn, payload),
// one query to the backend service before the reply (io-wait), or a fixed amount of CPU before the
// reply (cpu). Every model gets the same Work and applies it to every reply its protocol session
// produces, each in its own style: blocking models block, loops watch the backend socket, Node
// models await. This file holds what they share: the spec passed on the command line, the CPU
// loop, the backend's wire format and how a server reports a fault.
import { writeSync } from 'node:fs';

export type Work =
  | { kind: 'none' }
  | {
      kind: 'io-wait';
      backendPort: number;
      /** pooled: connections opened once and reused; per-request: connect, query, close every time. */
      connections: 'pooled' | 'per-request';
    }
  | { kind: 'cpu'; iterations: number };

export const NO_WORK: Work = { kind: 'none' };

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
  if (w.kind === 'io-wait' && Number.isInteger(w.backendPort) && (w.connections === 'pooled' || w.connections === 'per-request')) {
    return { kind: 'io-wait', backendPort: w.backendPort as number, connections: w.connections };
  }
  if (w.kind === 'cpu' && Number.isInteger(w.iterations) && (w.iterations as number) >= 0) return { kind: 'cpu', iterations: w.iterations as number };
  throw new Error(`--work: expected {"kind":"none"}, {"kind":"io-wait","backendPort":N,"connections":"pooled"|"per-request"} or {"kind":"cpu","iterations":N}, got ${raw}`);
}

export function workArg(w: Work): string {
  return JSON.stringify(w);
}

// A sink the optimiser cannot see through, so the loop is never removed.
let sink = 0;

/**
 * Burns CPU deterministically: `iterations` rounds of xorshift32 (no memory traffic, no allocation,
 * the same work in every model and thread). The harness calibrates iterations per microsecond once
 * per run and passes the count.
 */
export function burn(iterations: number): number {
  // x stays a signed 32-bit integer throughout: a value that became a heap number (a >>> 0 above
  // 2^31) made V8 run this loop three times slower in some threads than in others.
  let x = sink | 1;
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

// The backend's line protocol: a query is `Q` + 8 hex digits + LF (10 bytes); the answer, after the
// delay, is `A` + the same 8 digits, padded with '.' to ANSWER_BYTES ending in LF. Fixed sizes keep
// every client's parsing to a length check and one comparison.
export const QUERY_BYTES = 10;
export const ANSWER_BYTES = 64;

export function queryBytes(id: number): Buffer {
  return Buffer.from(`Q${(id >>> 0).toString(16).padStart(8, '0')}\n`, 'latin1');
}

export function answerFor(query: Buffer, at = 0): Buffer {
  const a = Buffer.alloc(ANSWER_BYTES, 0x2e);
  a[0] = 0x41; // 'A'
  query.copy(a, 1, at + 1, at + 9);
  a[ANSWER_BYTES - 1] = 0x0a;
  return a;
}

/** null when `answer` (ANSWER_BYTES long) answers `query`, else what is wrong with it. */
export function checkAnswer(query: Buffer, answer: Buffer): string | null {
  if (answer.length !== ANSWER_BYTES || answer[0] !== 0x41 || answer[ANSWER_BYTES - 1] !== 0x0a) return 'malformed backend answer';
  for (let i = 1; i < 9; i++) if (answer[i] !== query[i]) return 'backend answered a different query';
  return null;
}

/**
 * Something went wrong outside the model (a wrong backend answer, a backend gone): one JSON line per
 * reason on fd 1, which the harness turns into a failed cell. Written synchronously (and from any
 * thread: fd 1 is the process's), so it is out before the connection is closed.
 */
const reported = new Set<string>();
export function reportFault(reason: string): void {
  if (reported.has(reason)) return;
  reported.add(reason);
  writeSync(1, JSON.stringify({ event: 'fault', reason }) + '\n');
}

/** How long a server waits for one backend answer before it calls the backend dead, ms. */
export const BACKEND_TIMEOUT_MS = 5000;
