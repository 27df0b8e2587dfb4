// The flag rules every entry shares (the bench's plan, the load generator, the micro and client
// benches): one error for a bad flag, one reading of durations and counts, and the load client's
// rules, so `npm run bench` and `npm run load` refuse the same input with the same words.
import type { ClientTool } from './messages.js';

/** A flag that cannot be used as given; the entry prints its message and exits 2. */
export class PlanError extends Error {
  readonly code = 'EPLAN';
}

/** Worker threads or processes for the models that use a fixed number, unless --workers says. */
export function defaultWorkers(cpus: number): number {
  return Math.max(4, cpus * 2);
}

/** Most requests in flight on one connection (--pipeline). */
const MAX_PIPELINE = 1024;

/**
 * `--warmup -1s` would otherwise be refused by parseArgs as "ambiguous"; joining it to
 * `--warmup=-1s` lets the flag's own validation say what is allowed.
 */
export function attachValues(argv: string[], flags: Record<string, { type: string }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.startsWith('--') ? argv[i]!.slice(2) : '';
    const def = flags[name];
    const next = argv[i + 1];
    const nextIsFlag = next !== undefined && (next === '-h' || next.split('=')[0]!.slice(2) in flags);
    if (def?.type === 'string' && next?.startsWith('-') && !nextIsFlag) out.push(`--${name}=${argv[++i]}`);
    else out.push(argv[i]!);
  }
  return out;
}

export function parsePositiveInt(flag: string, raw: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new PlanError(`${flag}: must be a positive integer, got "${raw}"`);
  return n;
}

/** The longest gap --send-batch may ask for between an open-loop thread's batches of sends, µs. */
export const MAX_SEND_BATCH_US = 1000;

/** --send-batch: `auto` (null: the load thread chooses in warm-up) or a fixed gap in µs. */
export function parseSendBatch(raw: string, flag = '--send-batch'): number | null {
  if (raw === 'auto') return null;
  const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n > MAX_SEND_BATCH_US) throw new PlanError(`${flag}: must be auto or a gap in µs from 0 to ${MAX_SEND_BATCH_US}, got "${raw}"`);
  return n;
}

/** "3s", "500ms", "1.5" (seconds). */
export function parseSeconds(flag: string, raw: string, zeroAllowed: boolean): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(raw);
  const s = m ? Number(m[1]) / (m[2] === 'ms' ? 1000 : 1) : NaN;
  if (!Number.isFinite(s) || s < 0 || (!zeroAllowed && s === 0)) {
    const floor = zeroAllowed ? 'zero or more' : 'a positive duration';
    throw new PlanError(`${flag}: must be ${floor} like 3s, 500ms or 1.5, got "${raw}"`);
  }
  if (s > 3600) throw new PlanError(`${flag}: at most 3600s, got "${raw}"`);
  return s;
}

/**
 * Refuses up front a connection count the descriptor limit (`limit`, null for none) cannot hold,
 * instead of EMFILE mid-run.
 */
export function checkDescriptors(connections: number, limit: number | null, flag = '--connections'): void {
  const needed = connections + 64; // the runtime's own descriptors: stdio, epoll, worker pipes
  if (limit !== null && needed > limit) {
    throw new PlanError(`${flag}: ${connections} connections need about ${needed} descriptors but the limit is ${limit} (raise it with ulimit -n ${needed})`);
  }
}

/**
 * The load client's choices that cannot work together: only the native client keeps an open-loop
 * schedule, and wrk must be installed. `wrkOnPath` is asked only when wrk is chosen for HTTP.
 */
export function checkLoadClient(c: { http: boolean; client: ClientTool; openLoop: boolean; pipeline: number }, wrkOnPath: () => boolean): void {
  if (c.pipeline > MAX_PIPELINE) throw new PlanError(`--pipeline: at most ${MAX_PIPELINE}, got ${c.pipeline}`);
  if (!c.http || c.client === 'native') return;
  if (c.openLoop) throw new PlanError(`--rate: open loop needs --http-client native (${c.client} keeps no corrected schedule)`);
  if (c.client === 'wrk' && !wrkOnPath()) throw new PlanError('--http-client wrk: wrk is not on PATH (Debian: apt-get install wrk)');
}
