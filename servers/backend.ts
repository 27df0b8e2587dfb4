// The backend service of the io-wait scenario: a stand-in for a database. A query line in, a
// fixed-size answer out after --delay, kept by a timer, so thousands of queries wait at once for
// almost no CPU. On loopback, or on the --db-host's own address across machines; started and stopped by the harness like any server, in its own
// process, and it prints what it did when stopped so a cell can show it was never the bottleneck.
//
//   node dist/servers/backend.js --delay 10ms [--port 0] [--host 127.0.0.1] [--misbehave wrong-answer|exit-after=N]
//
// --misbehave exists for the tests that prove a bad backend fails a cell instead of passing as data.
import net from 'node:net';
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { answerFor, QUERY_BYTES } from '../protocols/service.js';
import type { BackendStatsMessage, ListeningMessage, ServerErrorMessage } from '../schema/messages.js';

function say(m: ListeningMessage | ServerErrorMessage | BackendStatsMessage): void {
  writeSync(1, JSON.stringify(m) + '\n');
}

function parse(): { host: string; port: number; delayMs: number; misbehave: { wrong: boolean; exitAfter: number } } {
  const { values } = parseArgs({
    options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' }, delay: { type: 'string', default: '10ms' }, misbehave: { type: 'string' } },
  });
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(values.delay);
  const delayMs = m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : NaN;
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > 60_000) throw new Error(`backend: --delay must be 0..60s like 10ms, got ${values.delay}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`backend: --port must be 0..65535, got ${values.port}`);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(values.host) || values.host === '0.0.0.0') throw new Error(`backend: --host must be an IPv4 address of this host (0.0.0.0 is refused), got ${values.host}`);
  const bad = values.misbehave ?? '';
  const exitAfter = /^exit-after=(\d+)$/.exec(bad);
  if (bad !== '' && bad !== 'wrong-answer' && !exitAfter) throw new Error(`backend: --misbehave must be wrong-answer or exit-after=N, got ${bad}`);
  return { host: values.host, port, delayMs, misbehave: { wrong: bad === 'wrong-answer', exitAfter: exitAfter ? Number(exitAfter[1]) : Infinity } };
}

const o = parse();
let queries = 0;
let waiting = 0;
let waitingPeak = 0;
let connections = 0;
let connectionsPeak = 0;
let connectionsOpened = 0;

const server = net.createServer({ noDelay: true }, (socket) => {
  connections++;
  connectionsOpened++;
  connectionsPeak = Math.max(connectionsPeak, connections);
  let partial: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    let data = partial === null ? chunk : Buffer.concat([partial, chunk]);
    partial = null;
    let at = 0;
    for (; at + QUERY_BYTES <= data.length; at += QUERY_BYTES) {
      if (data[at] !== 0x51 || data[at + QUERY_BYTES - 1] !== 0x0a) {
        socket.destroy(); // not our protocol: the server sees the connection end, which it reports
        return;
      }
      const answer = answerFor(data, at);
      if (o.misbehave.wrong) answer[1] = answer[1]! ^ 1;
      queries++;
      if (queries > o.misbehave.exitAfter) process.exit(3);
      waiting++;
      waitingPeak = Math.max(waitingPeak, waiting);
      // Equal delays fire in the order they were set, so answers on one connection stay in order.
      setTimeout(() => {
        waiting--;
        if (!socket.destroyed) socket.write(answer);
      }, o.delayMs);
    }
    if (at < data.length) partial = Buffer.from(data.subarray(at));
    data = Buffer.alloc(0);
  });
  socket.on('error', () => {});
  socket.on('close', () => connections--);
});

const stop = (): void => {
  say({ event: 'backend-stats', queries, waitingPeak, connectionsPeak, connectionsOpened });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
server.on('error', (e) => {
  say({ event: 'error', code: (e as NodeJS.ErrnoException).code ?? 'ERROR', message: e.message });
  process.exit(1);
});
server.listen({ host: o.host, port: o.port, backlog: 4096 }, () => {
  const address = server.address() as net.AddressInfo;
  say({ event: 'listening', host: o.host, port: address.port, pid: process.pid, delayMs: o.delayMs });
});
