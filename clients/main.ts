// npm run load: the load generator alone, against any server on this machine (ours, yours, nginx).
// Prints a wrk-like summary, or with --json one object whose fields are named as in a results cell.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { probeTarget, runLoad, TargetError, type AgentHooks, type AgentStart, type LoadOptions } from './load.js';
import type { ClientResult, ClientTool } from '../schema/messages.js';
import { emit, type WindowEvents } from './result.js';
import { runWrk } from './wrk.js';
import { attachValues, checkDescriptors, checkLoadClient, parsePositiveInt, parseSeconds, parseSendBatch, PlanError } from '../schema/flags.js';
import { CLIENT_TOOLS } from '../schema/messages.js';
import { openFilesLimit } from '../sys/limits.js';
import { onPath } from '../sys/path.js';
import type { LatencyUs } from '../schema/results.js';

const LOAD_DEFAULTS = {
  protocol: 'http',
  path: '/',
  connections: '64',
  threads: String(Math.max(1, Math.floor(availableParallelism() / 2))),
  duration: '5s',
  warmup: '1s',
  pipeline: '1',
  payload: '64',
  timeout: '5s',
  'connect-timeout': '20s',
  'http-client': 'native',
  'send-batch': 'auto',
} as const;

const FLAGS = {
  target: { type: 'string' },
  protocol: { type: 'string' },
  path: { type: 'string' },
  connections: { type: 'string' },
  threads: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  rate: { type: 'string' },
  'send-batch': { type: 'string' },
  pipeline: { type: 'string' },
  payload: { type: 'string' },
  timeout: { type: 'string' },
  'connect-timeout': { type: 'string' },
  'http-client': { type: 'string' },
  churn: { type: 'boolean' },
  json: { type: 'boolean' },
  events: { type: 'boolean' },
  agent: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A connection is stalled when no other has been answered for this long (see --connect-timeout). */
const CONNECT_STALL_MS = 3000;

export interface LoadCommand {
  options: LoadOptions;
  httpClient: ClientTool;
  json: boolean;
  events: boolean;
}

export function usage(): string {
  return `Usage: npm run load -- --target 127.0.0.1:PORT [flags]

Drives one server on this machine and prints throughput, latency and errors.

  --target HOST:PORT     the server; loopback only (127.0.0.0/8 or localhost)
  --protocol http|echo   what it speaks (default: ${LOAD_DEFAULTS.protocol})
  --path PATH            HTTP request target; every response must match the first one's status and body (default: ${LOAD_DEFAULTS.path})
  --connections N        connections, each with --pipeline requests in flight (default: ${LOAD_DEFAULTS.connections})
  --threads N            load threads, each its own epoll loop with a share of the connections (default: ${LOAD_DEFAULTS.threads}, half the CPUs)
  --duration TIME        measured window, e.g. 10s or 500ms (default: ${LOAD_DEFAULTS.duration})
  --warmup TIME          load before the window that is not measured (default: ${LOAD_DEFAULTS.warmup})
  --rate R               open loop: R operations per second in all, on a fixed schedule, latency counted
                         from when each was due (default: closed loop, each connection sends on each answer)
  --send-batch auto|US   open loop: the least gap between batches of sends, µs (0 to 1000); auto starts at 0
                         and widens it in warm-up while a load thread is over 80% busy (default: ${LOAD_DEFAULTS['send-batch']})
  --pipeline N           requests in flight per connection (default: ${LOAD_DEFAULTS.pipeline})
  --payload BYTES        echo message size (default: ${LOAD_DEFAULTS.payload})
  --timeout TIME         a request unanswered this long is a timeout error (default: ${LOAD_DEFAULTS.timeout})
  --connect-timeout TIME how long every connection's first answer may take (default: ${LOAD_DEFAULTS['connect-timeout']})
  --http-client native|autocannon|wrk   which tool drives HTTP (default: ${LOAD_DEFAULTS['http-client']}; wrk must be on PATH)
  --churn                a new connection for every request: HTTP sends Connection: close, echo closes after
                         each answer; connect-to-first-byte is then timed on every request
  --json                 print one JSON object, fields named as in a results cell
  --events               also print {"event":"measuring"} and {"event":"measured"} when the window opens and
                         closes (how the harness reads it)
  --agent I/N            run as agent I of N started by the harness on a load host (README: "Across
                         machines"): the target may then be the plan's server host; connects, prints
                         {"event":"agent-ready"}, answers {"ping":N} on stdin, and starts at the
                         {"start":{...}} line; with --rate, sends operations k·N + I of that schedule;
                         prints {"event":"interval",...} with each interval's histogram as it closes
  -h, --help             this text
`;
}

/** argv -> a validated command; null for --help. Throws PlanError (exit 2) naming the flag. */
function parseLoad(argv: string[]): LoadCommand | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: attachValues(argv, FLAGS), options: FLAGS, strict: true, allowPositionals: false }));
  } catch (e) {
    const m = /Unknown option '([^']+)'/.exec((e as Error).message);
    throw new PlanError(m ? `${m[1]}: unknown flag; allowed: ${Object.keys(FLAGS).map((f) => `--${f}`).join(', ')}` : (e as Error).message.split('\n')[0]!);
  }
  if (values.help) return null;
  const get = (f: keyof typeof LOAD_DEFAULTS): string => (typeof values[f] === 'string' ? (values[f] as string) : LOAD_DEFAULTS[f]);
  if (typeof values.target !== 'string') throw new PlanError('--target: required, as HOST:PORT (for example 127.0.0.1:8080)');
  const agent = typeof values.agent === 'string' ? parseAgent(values.agent) : null;
  const { host, port } = parseTarget(values.target, agent !== null);
  const protocol = oneOf('--protocol', get('protocol'), ['http', 'echo'] as const);
  const httpClient = oneOf('--http-client', get('http-client'), CLIENT_TOOLS);
  const rate = typeof values.rate === 'string' ? positiveNumber('--rate', values.rate) : null;
  const sendBatchUs = parseSendBatch(get('send-batch'));
  const path = get('path');
  if (!path.startsWith('/') || /[\s\x00-\x1f\x7f]/.test(path)) throw new PlanError(`--path: must start with / and hold no spaces or control characters, got "${path}"`);
  const options: LoadOptions = {
    protocol,
    host,
    port,
    path,
    connections: parsePositiveInt('--connections', get('connections')),
    threads: parsePositiveInt('--threads', get('threads')),
    pipeline: parsePositiveInt('--pipeline', get('pipeline')),
    payloadBytes: parsePositiveInt('--payload', get('payload')),
    durationS: parseSeconds('--duration', get('duration'), false),
    warmupS: parseSeconds('--warmup', get('warmup'), true),
    rate,
    sendBatchUs,
    timeoutMs: parseSeconds('--timeout', get('timeout'), false) * 1000,
    connectStallMs: CONNECT_STALL_MS,
    connectCapMs: parseSeconds('--connect-timeout', get('connect-timeout'), false) * 1000,
    churn: values.churn === true,
    ...(agent ? { agent: agentHooks(agent) } : {}),
  };
  if (agent && httpClient !== 'native') throw new PlanError(`--agent: needs --http-client native (only it keeps a shared schedule and window), got ${httpClient}`);
  if (options.churn && options.pipeline > 1) throw new PlanError(`--churn: one request per connection, so --pipeline must be 1, got ${options.pipeline}`);
  if (options.churn && protocol === 'http' && httpClient !== 'native') throw new PlanError(`--churn: needs --http-client native (${httpClient} keeps its connections)`);
  checkLoadClient({ http: protocol === 'http', client: httpClient, openLoop: rate !== null, pipeline: options.pipeline }, () => onPath('wrk'));
  if (protocol === 'echo' && httpClient !== 'native' && typeof values['http-client'] === 'string') {
    throw new PlanError(`--http-client: ${httpClient} speaks HTTP only; echo is driven by the native client`);
  }
  checkDescriptors(options.connections, openFilesLimit());
  return { options, httpClient, json: values.json === true, events: values.events === true || agent !== null };
}

function parseAgent(raw: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new PlanError(`--agent: expected I/N with 0 <= I < N, such as 0/2, got "${raw}"`);
  return { index, count };
}

/**
 * An agent's side of the harness's lines on stdin: pings answered at once with this clock
 * (CLOCK_MONOTONIC, the load threads' clock), the start line handed to the load. stdin closing
 * before the start means the harness is gone.
 */
function agentHooks(a: { index: number; count: number }): AgentHooks {
  let release!: (s: AgentStart) => void;
  const start = new Promise<AgentStart>((r) => (release = r));
  let started = false;
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let m: { ping?: unknown; start?: AgentStart };
    try {
      m = JSON.parse(line) as typeof m;
    } catch {
      return;
    }
    if (typeof m.ping === 'number') emit({ event: 'pong', id: m.ping, clockMs: Number(process.hrtime.bigint()) / 1e6 });
    else if (m.start && !started) {
      started = true;
      release(m.start);
    }
  });
  lines.on('close', () => {
    if (!started) process.exit(3);
  });
  return {
    ...a,
    ready: (connections) => emit({ event: 'agent-ready', connections }),
    start,
    onInterval: (k, ops, latency) => emit({ event: 'interval', k, ops, latency }),
  };
}

function parseTarget(raw: string, remote = false): { host: string; port: number } {
  const m = /^([^:]+):(\d+)$/.exec(raw);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new PlanError(`--target: expected HOST:PORT such as 127.0.0.1:8080, got "${raw}"`);
  const host = m[1] === 'localhost' ? '127.0.0.1' : m[1]!;
  const quad = host.split('.').map(Number);
  const dotted = quad.length === 4 && quad.every((q) => Number.isInteger(q) && q >= 0 && q <= 255);
  // An agent's target is the plan's server host, an address the harness resolved and names.
  if (remote && dotted && host !== '0.0.0.0') return { host, port };
  if (!dotted || quad[0] !== 127) {
    throw new PlanError(`--target: load goes to loopback only (127.0.0.0/8 or localhost)${remote ? ', or as an agent to an IPv4 address' : ''}, got "${m[1]}"`);
  }
  return { host, port };
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new PlanError(`${flag}: unknown value "${raw}"; allowed: ${allowed.join(', ')}`);
  return raw as T;
}

function positiveNumber(flag: string, raw: string): number {
  const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new PlanError(`${flag}: must be a positive number of operations per second, got "${raw}"`);
  return n;
}

/** Runs the load with the chosen tool. */
export function drive(cmd: LoadCommand, events: WindowEvents): Promise<ClientResult> {
  const o = cmd.options;
  if (o.protocol === 'http' && cmd.httpClient === 'wrk') return runWrk(o, events);
  if (o.protocol === 'http' && cmd.httpClient === 'autocannon') return runAutocannonChecked(o, events);
  return runLoad(o, events);
}

/** autocannon needs the expected body up front: it comes from the same probe the native client makes. */
async function runAutocannonChecked(o: LoadOptions, events: WindowEvents): Promise<ClientResult> {
  const expected = await probeTarget(o);
  // Imported only when asked for: loading autocannon costs every other client ~0.1 s of its start.
  const { runAutocannon } = await import('./autocannon.js');
  return runAutocannon(o, expected!.body.toString('latin1'), events);
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
const row = (name: string, l: LatencyUs): string =>
  `    ${name.padEnd(12)}${[l.p50, l.p90, l.p99, l.p999, l.max].map((v) => fmt(v).padStart(10)).join('')}`;

function summaryText(cmd: LoadCommand, r: ClientResult): string {
  const o = cmd.options;
  const what = o.protocol === 'http' ? `http GET ${o.path}` : `echo ${o.payloadBytes} B`;
  const loop = (o.rate === null ? 'closed loop' : `open loop at ${fmt(o.rate)} ops/s`) + (o.churn ? ', a connection per request' : '');
  const lines = [
    `${r.durationS.toFixed(2)} s @ ${o.host}:${o.port} (${what}), ${o.connections} connections, ${r.client.threads} thread(s), pipeline ${o.pipeline}, ${loop}, client ${r.tool}`,
    `  ops/s        ${fmt(r.opsPerSec)}  (${fmt(r.ops)} correct in the window)`,
    `  latency µs          p50       p90       p99     p99.9       max`,
    row(o.rate === null ? 'per request' : 'corrected', r.latencyUs),
  ];
  if (o.rate !== null && r.latencyUncorrectedUs) lines.push(row('uncorrected', r.latencyUncorrectedUs));
  const lag = r.client.sendLagUs;
  if (lag) lines.push(`  send lag µs  p50 ${fmt(lag.p50)}, p99 ${fmt(lag.p99)}, max ${fmt(lag.max)} (how late the client sent against the schedule: its share of the corrected latency)`);
  const why = o.sendBatchUs == null ? 'the client was busy in warm-up, so it gathers its sends' : 'as --send-batch asked';
  if (r.client.sendBatchUs) lines.push(`  send batch   a gap of ${fmt(r.client.sendBatchUs)} µs between batches of sends (${why}; the wait is in the send lag)`);
  const errs = Object.entries(r.errors.byCode).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
  lines.push(`  errors       ${r.errors.total === 0 ? 'none' : `${fmt(r.errors.total)} (${errs})`}`);
  if (o.churn) lines.push(`  connections  ${fmt(r.reconnects)} opened in the window, one per request; connect to first byte p50 ${fmt(r.connectUs?.p50 ?? 0)} µs, p99 ${fmt(r.connectUs?.p99 ?? 0)} µs`);
  else if (r.reconnects > 0) lines.push(`  reconnects   ${fmt(r.reconnects)} (the server closed keep-alive connections after a response)`);
  if (r.rateShortfall) lines.push(`  RATE SHORTFALL: achieved ${fmt(r.rateShortfall.achievedOpsPerSec)} of ${fmt(r.rateShortfall.targetOpsPerSec)} ops/s`);
  const perOp = r.client.cpuUsPerOp === null ? 'n/a' : `${r.client.cpuUsPerOp.toFixed(1)} µs per op`;
  lines.push(`  client CPU   ${perOp}, ${Math.round(r.client.cpuPercent)}% of one core (busiest thread ${Math.round(r.client.threadCpuPercentMax)}%)`);
  if (r.client.saturated) lines.push('  CLIENT SATURATED: a load thread used 90% or more of its core; the server may be faster than this shows (add --threads)');
  return lines.join('\n') + '\n';
}

/**
 * `--target stdin`: the harness starts the client while the server starts, so that Node's start
 * and this program's imports (about 0.1 s a cell, 171 cells in the default suite) overlap it;
 * the target comes as the first stdin line, {"target":"127.0.0.1:PORT"}, once the server is verified.
 */
async function targetFromStdin(argv: string[]): Promise<string[]> {
  const at = argv.indexOf('--target');
  if (at < 0 || argv[at + 1] !== 'stdin') return argv;
  const lines = createInterface({ input: process.stdin });
  const line = await new Promise<string | null>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(null));
  });
  lines.close();
  process.stdin.destroy(); // nothing more comes; a stdin left open would keep the process alive
  if (line === null) throw new PlanError('--target stdin: stdin closed before a {"target":"HOST:PORT"} line');
  let target: unknown;
  try {
    target = (JSON.parse(line) as { target?: unknown }).target;
  } catch {
    target = undefined;
  }
  if (typeof target !== 'string') throw new PlanError(`--target stdin: expected a first line {"target":"HOST:PORT"}, got ${line.slice(0, 80)}`);
  return argv.map((a, i) => (i === at + 1 ? target : a));
}

async function main(): Promise<number> {
  const cmd = parseLoad(await targetFromStdin(process.argv.slice(2)));
  if (cmd === null) {
    process.stdout.write(usage());
    return 0;
  }
  const result = await drive(cmd, {
    onMeasuring: () => cmd.events && emit({ event: 'measuring' }),
    onMeasured: () => cmd.events && emit({ event: 'measured' }),
  });
  if (cmd.json || cmd.events) emit(result);
  else process.stdout.write(summaryText(cmd, result));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`load: ${e.message}\n`);
    process.exit(e instanceof PlanError || e instanceof TargetError ? 2 : 1);
  },
);
