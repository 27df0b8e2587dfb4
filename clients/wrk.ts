// HTTP/1.1 load through wrk (`--http-client wrk`, Debian package `wrk`): the outside reference the
// native client is measured against. A Lua done() hook prints wrk's own counts and percentiles as
// JSON. wrk takes whole seconds, opens its connections at once (no connect phase), and checks the
// status (>= 400 is an error) but not the body; its CPU is read from our waited-for children.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TargetError, type LoadOptions } from './load.js';
import type { ClientResult } from '../schema/messages.js';
import { clientUsage, closedLoopResult, NO_EVENTS, type WindowEvents } from './result.js';

const DONE_HOOK = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"wrk":1,"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
`;

interface WrkSummary {
  requests: number;
  durationUs: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** The JSON line our done() hook printed, from wrk's whole stdout. */
function parseWrkOutput(stdout: string): WrkSummary {
  const line = stdout.split('\n').find((l) => l.startsWith('{"wrk":1'));
  if (!line) throw new Error(`wrk printed no summary: ${stdout.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line) as WrkSummary;
}

/** CPU seconds of this process's children that have been waited for (cutime + cstime). */
function childrenCpuS(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100; // fields 16 and 17, in USER_HZ (100 on Linux)
}

function runWrkOnce(o: LoadOptions, seconds: number, script: string): Promise<string> {
  const args = [
    '-t', String(Math.max(1, Math.min(o.threads, o.connections))),
    '-c', String(o.connections),
    '-d', `${seconds}s`,
    '--timeout', `${Math.max(1, Math.round(o.timeoutMs / 1000))}s`,
    '-s', script,
    `http://${o.host}:${o.port}${o.path}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new TargetError(`wrk could not start: ${e.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${(err || out).trim().slice(-300)}`))));
  });
}

export async function runWrk(o: LoadOptions, events: WindowEvents = NO_EVENTS): Promise<ClientResult> {
  if (o.rate !== null) throw new TargetError('wrk has no open-loop mode: --rate needs --http-client native');
  const dir = mkdtempSync(join(tmpdir(), 'cb-wrk-'));
  const script = join(dir, 'done.lua');
  writeFileSync(script, DONE_HOOK);
  try {
    if (o.warmupS > 0) await runWrkOnce(o, Math.max(1, Math.round(o.warmupS)), script);
    const cpuBefore = childrenCpuS();
    events.onMeasuring();
    const out = await runWrkOnce(o, Math.max(1, Math.round(o.durationS)), script);
    events.onMeasured();
    const s = parseWrkOutput(out);
    const cpuS = childrenCpuS() - cpuBefore;
    const durationS = s.durationUs / 1e6;
    const byCode: Record<string, number> = {};
    for (const [k, v] of [['connect', s.connect], ['read', s.read], ['write', s.write], ['HTTP_4xx/5xx', s.status], ['timeout', s.timeout]] as const) {
      if (v > 0) byCode[k] = v;
    }
    const total = Object.values(byCode).reduce((a, b) => a + b, 0);
    const ops = Math.max(0, s.requests - s.status);
    const threads = Math.max(1, Math.min(o.threads, o.connections));
    return closedLoopResult({
      tool: 'wrk',
      ops,
      durationS,
      bytesPerSec: s.bytes / durationS,
      errors: { total, byCode },
      latencyUs: { p50: s.p50, p90: s.p90, p99: s.p99, p999: s.p999, max: s.max, mean: s.mean },
      connections: o.connections,
      // wrk's threads are not measured one by one: their mean stands in for the busiest.
      client: clientUsage('wrk', threads, cpuS, durationS, ops),
      histograms: null,
      perThread: [],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
