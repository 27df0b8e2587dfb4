// npm run bench:clients: how fast are our load generators? Each server (native-epoll, the C
// ceiling, and epoll) is pinned as the harness pins it and driven in turn by every client that
// speaks its protocol, repetitions interleaved; the table gives medians and each client's
// throughput as a ratio of the reference's on the same server in the same run: wrk for HTTP, our
// C echo client (native/echo-client.c, the same closed loop without Node) for echo. Then our client
// in open loop at fractions of its own closed-loop throughput: what a request costs it there, as a
// ratio of what it cost in the closed loop, and how late it sent (the target is within 1.3× from half
// of a core's rate up, so that a --rate sweep measures the server up to 90% and not the client).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ClientResult } from '../schema/messages.js';
import { choosePinning, defaultClientThreads } from '../harness/env.js';
import { dist, PROJECT_ROOT } from '../harness/paths.js';
import { attachValues, parseSeconds, parseSendBatch, PlanError } from '../schema/flags.js';
import { onPath } from '../sys/path.js';
import { killAllGroups, startGroup, stopGroup, waitForLine, waitForMessage } from '../harness/processes.js';
import { beginMeasuring } from '../harness/entry.js';
import { LockError } from '../harness/guard.js';
import { openTable, table, type OpenRow, type Row } from '../report/client-bench.js';

const DEFAULTS = { servers: 'native-epoll,epoll', connections: '64', duration: '3s', warmup: '1s', repetitions: '3', 'open-loop': '0.5,0.75,0.9', 'send-batch': 'auto' } as const;
const FLAGS = {
  servers: { type: 'string' },
  'open-loop': { type: 'string' },
  'send-batch': { type: 'string' },
  connections: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  repetitions: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(): string {
  return `Usage: npm run bench:clients -- [flags]

Drives each server with every load generator that speaks its protocol and prints their throughput,
client CPU per operation and the ratio to the reference client on the same server in the same run:
wrk for HTTP (when installed), the C echo client in native/ for echo (when cc is there).

  --servers LIST       models to drive (default: ${DEFAULTS.servers}; native-epoll needs cc)
  --connections N      connections (default: ${DEFAULTS.connections})
  --duration TIME      measured window per run (default: ${DEFAULTS.duration})
  --warmup TIME        unmeasured load before it (default: ${DEFAULTS.warmup})
  --repetitions N      runs per (server, client), interleaved; the table shows medians (default: ${DEFAULTS.repetitions})
  --open-loop LIST     then our client in open loop at these fractions of its closed-loop throughput
                       (each in (0, 1]), or none (default: ${DEFAULTS['open-loop']})
  --send-batch LIST    the open loop's gap between batches of sends at each fraction: auto or µs (0 to
                       1000), several to compare them in the same run, e.g. auto,0 (default: ${DEFAULTS['send-batch']})
  -h, --help           this text
`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ args: attachValues(process.argv.slice(2), FLAGS), options: FLAGS, strict: true });
  if (values.help) {
    process.stdout.write(usage());
    return 0;
  }
  const get = (f: keyof typeof DEFAULTS): string => values[f] ?? DEFAULTS[f];
  const servers = get('servers').split(',').map((s) => s.trim()).filter(Boolean);
  const connections = Number(get('connections'));
  const repetitions = Number(get('repetitions'));
  if (!Number.isInteger(connections) || connections < 1) throw new PlanError(`--connections: must be a positive integer, got "${get('connections')}"`);
  if (!Number.isInteger(repetitions) || repetitions < 1) throw new PlanError(`--repetitions: must be a positive integer, got "${get('repetitions')}"`);
  const fractions = parseFractions(get('open-loop'));
  const batches = [...new Set(get('send-batch').split(',').map((b) => b.trim()))];
  for (const b of batches) parseSendBatch(b);
  const durationS = parseSeconds('--duration', get('duration'), false);
  const warmupS = parseSeconds('--warmup', get('warmup'), true);
  beginMeasuring({ name: 'bench:clients', say: (line) => void process.stderr.write(line + '\n') });
  const pinning = choosePinning(true);
  const threads = defaultClientThreads(pinning);
  const wrk = onPath('wrk');
  const cEcho = buildEchoClient();
  const http = ['native', 'autocannon', ...(wrk ? ['wrk'] : [])];
  const echo = ['native', ...(cEcho ? ['c-echo'] : [])];
  process.stderr.write(`server on CPU ${pinning.server?.join(',') ?? 'any'}, clients on CPU ${pinning.client?.join(',') ?? 'any'} with ${threads} thread(s)` +
    `${wrk ? '' : '; wrk not on PATH, so no HTTP reference (apt-get install wrk)'}${cEcho ? '' : '; no C compiler, so no echo reference'}\n`);
  const rows = new Map<string, Row>();
  const openRows = new Map<string, OpenRow>();
  for (let rep = 1; rep <= repetitions; rep++) {
    for (const server of servers) {
      for (const protocol of ['echo', 'http'] as const) {
        const child = startGroup(process.execPath, [dist('servers/main.js'), '--model', server, '--protocol', protocol, '--port', '0'], { cpus: pinning.server });
        try {
          const port = await waitForMessage(child, (m) => (m.event === 'listening' ? m.port : m.event === 'error' ? -1 : undefined), 30_000, `${server} start`);
          if (port < 0) throw new PlanError(`--servers: ${server} could not start: ${child.stderrTail()}`);
          let closedNative = 0;
          for (const tool of protocol === 'echo' ? echo : http) {
            const r = tool === 'c-echo'
              ? await driveC(cEcho!, port, connections, warmupS, durationS, pinning.client)
              : await drive(port, protocol, tool, connections, threads, warmupS, durationS, pinning.client);
            const key = `${server}\0${protocol}\0${tool}`;
            const row = rows.get(key) ?? { server, protocol, tool, opsPerSec: [], cpuUsPerOp: [], saturated: 0, errors: 0 };
            row.opsPerSec.push(r.opsPerSec);
            if (r.client.cpuUsPerOp !== null) row.cpuUsPerOp.push(r.client.cpuUsPerOp);
            row.saturated += r.client.saturated ? 1 : 0;
            row.errors += r.errors.total;
            rows.set(key, row);
            process.stderr.write(`[${rep}/${repetitions}] ${server} ${protocol} ${tool}: ${Math.round(r.opsPerSec).toLocaleString('en-US')} ops/s, ${r.client.cpuUsPerOp?.toFixed(1) ?? '–'} µs client CPU per op\n`);
            if (tool === 'native') closedNative = r.opsPerSec;
          }
          for (const fraction of closedNative > 0 ? fractions : []) {
            const rate = Math.round(closedNative * fraction);
            for (const batch of batches) {
              const r = await drive(port, protocol, 'native', connections, threads, warmupS, durationS, pinning.client, rate, batch);
              const key = `${server}\0${protocol}\0${fraction}\0${batch}`;
              const row = openRows.get(key) ?? { server, protocol, fraction, batch, rate: [], opsPerSec: [], cpuUsPerOp: [], sendBatchUs: [], sendLagP50Us: [], sendLagP99Us: [], latencyP50Us: [], saturated: 0 };
              row.rate.push(rate);
              row.opsPerSec.push(r.opsPerSec);
              if (r.client.cpuUsPerOp !== null) row.cpuUsPerOp.push(r.client.cpuUsPerOp);
              if (typeof r.client.sendBatchUs === 'number') row.sendBatchUs.push(r.client.sendBatchUs);
              if (r.client.sendLagUs) {
                row.sendLagP50Us.push(r.client.sendLagUs.p50);
                row.sendLagP99Us.push(r.client.sendLagUs.p99);
              }
              row.latencyP50Us.push(r.latencyUs.p50);
              row.saturated += r.client.saturated ? 1 : 0;
              openRows.set(key, row);
              process.stderr.write(`[${rep}/${repetitions}] ${server} ${protocol} native open loop at ${Math.round(fraction * 100)}% (${rate.toLocaleString('en-US')}/s, --send-batch ${batch}): ` +
                `${Math.round(r.opsPerSec).toLocaleString('en-US')} ops/s, ${r.client.cpuUsPerOp?.toFixed(1) ?? '–'} µs client CPU per op, batches ${r.client.sendBatchUs ?? '–'} µs apart, ` +
                `send lag p99 ${r.client.sendLagUs?.p99 ?? '–'} µs${r.client.saturated ? ', CLIENT SATURATED' : ''}\n`);
            }
          }
        } finally {
          await stopGroup(child);
        }
      }
    }
  }
  process.stdout.write(table([...rows.values()], repetitions));
  if (openRows.size > 0) process.stdout.write('\n' + openTable([...openRows.values()], [...rows.values()], repetitions));
  return 0;
}

function drive(port: number, protocol: string, tool: string, connections: number, threads: number, warmupS: number, durationS: number, cpus: number[] | null, rate: number | null = null, batch = 'auto'): Promise<ClientResult> {
  const args = [dist('clients/main.js'), '--target', `127.0.0.1:${port}`, '--protocol', protocol, '--connections', String(connections),
    '--threads', String(threads), '--warmup', `${warmupS}s`, '--duration', `${durationS}s`, '--json'];
  if (protocol === 'http') args.push('--http-client', tool);
  if (rate !== null) args.push('--rate', String(rate), '--send-batch', batch);
  const child = startGroup(process.execPath, args, { cpus });
  const timeout = (Math.ceil(warmupS) + Math.ceil(durationS)) * 1000 + 60_000;
  return waitForMessage(child, (m) => (m.event === 'result' ? m : undefined), timeout, `${tool} client`).finally(() => stopGroup(child, 1000));
}

/** The C echo client, compiled on first use like the C server; null without a compiler. */
function buildEchoClient(): string | null {
  const out = `${PROJECT_ROOT}/native/build/echo-client`;
  try {
    mkdirSync(`${PROJECT_ROOT}/native/build`, { recursive: true });
    execFileSync('cc', ['-O2', '-o', out, `${PROJECT_ROOT}/native/echo-client.c`], { stdio: 'ignore' });
    return out;
  } catch {
    return null;
  }
}

/** The C echo client's one JSON line (it prints no event): its counts for the whole window. */
function cSummary(line: string): { ops: number; durationS: number; cpuS: number; errors: number } | undefined {
  try {
    const v = JSON.parse(line) as { ops?: unknown } | null;
    return typeof v?.ops === 'number' ? (v as { ops: number; durationS: number; cpuS: number; errors: number }) : undefined;
  } catch {
    return undefined;
  }
}

/** One run of the C echo client, shaped like the native client's result where the table needs it. */
async function driveC(binary: string, port: number, connections: number, warmupS: number, durationS: number, cpus: number[] | null): Promise<ClientResult> {
  const child = startGroup(binary, ['127.0.0.1', String(port), String(connections), '64', String(warmupS), String(durationS)], { cpus });
  const timeout = (warmupS + durationS) * 1000 + 30_000;
  try {
    const r = await waitForLine(child, (_m, line) => cSummary(line), timeout, 'C echo client');
    const opsPerSec = r.ops / r.durationS;
    const cpuPercent = (r.cpuS / r.durationS) * 100;
    return {
      opsPerSec,
      errors: { total: r.errors, byCode: {} },
      client: { tool: 'native', threads: 1, cpuPercent, cpuUsPerOp: r.ops > 0 ? (r.cpuS * 1e6) / r.ops : null, threadCpuPercentMax: cpuPercent, saturated: cpuPercent >= 90 },
    } as ClientResult;
  } finally {
    await stopGroup(child, 1000);
  }
}

/** `--open-loop`: fractions in (0, 1], or `none`. */
export function parseFractions(raw: string): number[] {
  if (raw === 'none') return [];
  const xs = raw.split(',').map((x) => x.trim());
  const bad = xs.find((x) => !/^\d*\.?\d+$/.test(x) || Number(x) <= 0 || Number(x) > 1);
  if (bad !== undefined || xs.length === 0) throw new PlanError(`--open-loop: fractions of the closed-loop throughput in (0, 1], comma-separated, or none; got "${raw}"`);
  return xs.map(Number);
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`bench:clients: ${e.message.split('\n')[0]}\n`);
    killAllGroups();
    process.exit(e instanceof PlanError || e instanceof LockError || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1);
  },
);
