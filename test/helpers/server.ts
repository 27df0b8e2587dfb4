// Starting a real server process for a test, the way the harness does, and talking to it.
import net from 'node:net';
import type { Protocol } from '../../schema/catalog.js';
import { seededBytes } from '../../clients/payload.js';

export { seededBytes };
import { dist } from '../../harness/paths.js';
import { STOP_GRACE_MS, startGroup, stopGroup, waitForMessage, type Child } from '../../harness/processes.js';
import { groupMembers } from '../../harness/sampler.js';

export interface TestServer {
  child: Child;
  port: number;
  /** Lines the server printed with event "limit". */
  limits: string[];
  stop(): Promise<{ code: number | string; killed: boolean }>;
}

export async function startServer(model: string, protocol: Protocol, extra: string[] = []): Promise<TestServer> {
  const child = startGroup(process.execPath, [dist('servers/main.js'), '--model', model, '--protocol', protocol, '--port', '0', ...extra], {
    cpus: null,
  });
  const limits: string[] = [];
  child.onLine((m) => {
    if (m?.event === 'limit') limits.push(String(m.reason));
  });
  try {
    const port = await waitForMessage(child, (m) => (m.event === 'listening' ? Number(m.port) : undefined), 15_000, `${model} start`);
    return { child, port, limits, stop: () => stopGroup(child) };
  } catch (e) {
    await stopGroup(child);
    throw e;
  }
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads from `socket` until `until(all bytes so far)` is true; rejects on close or timeout. */
export function readUntil(socket: net.Socket, until: (got: Buffer) => boolean, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: Error | null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (d: Buffer): void => {
      chunks.push(d);
      size += d.length;
      if (until(Buffer.concat(chunks, size))) done(null);
    };
    const onClose = (): void => (until(Buffer.concat(chunks, size)) ? done(null) : done(new Error(`closed after ${size} bytes`)));
    const timer = setTimeout(() => done(new Error(`timed out after ${size} bytes`)), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

export function seededInts(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Splits an HTTP/1.1 response stream into complete responses (Content-Length framed). */
export function parseResponses(data: Buffer): { status: number; headers: Record<string, string>; body: Buffer }[] {
  const out: { status: number; headers: Record<string, string>; body: Buffer }[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) return out;
    const head = data.subarray(at, end).toString('latin1').split('\r\n');
    const status = Number(head[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    if (data.length < end + 4 + len) return out;
    out.push({ status, headers, body: data.subarray(end + 4, end + 4 + len) });
    at = end + 4 + len;
  }
}

/**
 * SIGTERM only, as the harness sends it first, then what of the group is still there after the
 * grace stopGroup would give it (empty: it ended by itself). stopGroup's SIGKILL would end a process
 * that ignores SIGTERM and hide it, so a test of a clean exit must not lean on it; the caller still
 * calls stopGroup afterwards to end what is left.
 */
export async function leftAfterSigterm(pgid: number, graceMs = STOP_GRACE_MS): Promise<string[]> {
  process.kill(-pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupMembers(pgid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return groupMembers(pgid).map((p) => `pid ${p.pid} (state ${p.state}, ${p.threads} threads)`);
}
