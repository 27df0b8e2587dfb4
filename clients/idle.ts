// Holds N idle connections open (the C10K scenario): each makes one exchange so the server has
// really accepted it, then stays silent until the process is ended.
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { emit } from './result.js';

const ECHO_PROBE = Buffer.from('idle\n');
const HTTP_PROBE = Buffer.from('GET / HTTP/1.1\r\nHost: idle\r\n\r\n');

/** Opens `count` connections in batches, each answered once; resolves with the open sockets. */
export async function holdIdle(host: string, port: number, count: number, protocol: 'echo' | 'http', timeoutMs = 60_000): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  const deadline = Date.now() + timeoutMs;
  for (let start = 0; start < count; start += 100) {
    const batch = Array.from({ length: Math.min(100, count - start) }, () => openOne(host, port, protocol, deadline - Date.now()));
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

function openOne(host: string, port: number, protocol: 'echo' | 'http', timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`idle connection ${s.localPort ?? ''} got no answer within the time left (${Math.round(timeoutMs)} ms)`));
    }, Math.max(1, timeoutMs));
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.once('connect', () => s.write(protocol === 'echo' ? ECHO_PROBE : HTTP_PROBE));
    s.once('data', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      s.on('error', () => {}); // a server that drops idle connections is seen by the load, not here
      resolve(s);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      connections: { type: 'string', default: '1000' },
      protocol: { type: 'string', default: 'echo' },
    },
  });
  const port = Number(values.port);
  const count = Number(values.connections);
  if (!Number.isInteger(port) || port < 1) throw new Error(`idle client: --port must be a port number, got ${values.port}`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`idle client: --connections must be a positive integer, got ${values.connections}`);
  if (values.protocol !== 'echo' && values.protocol !== 'http') throw new Error(`idle client: --protocol must be echo or http`);
  const sockets = await holdIdle(values.host!, port, count, values.protocol);
  emit({ event: 'idle', connections: sockets.length });
  // Stay until the harness ends this process group.
  setInterval(() => {}, 1 << 30);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
