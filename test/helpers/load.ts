// Many connections at once, and the memory of a server's process group, for the model tests.
import net from 'node:net';
import { groupMembers } from '../../harness/sampler.js';
import { connect, readUntil } from './server.js';

/** A connection whose end (FIN or reset, from either side) is recorded, never thrown. */
export interface Tracked {
  socket: net.Socket;
  closed: boolean;
}

/** Opens `n` connections, `batch` at a time so the listener's backlog never overflows. */
export async function openMany(port: number, n: number, batch = 100): Promise<Tracked[]> {
  const out: Tracked[] = [];
  for (let at = 0; at < n; at += batch) {
    const sockets = await Promise.all(Array.from({ length: Math.min(batch, n - at) }, () => connect(port)));
    for (const socket of sockets) {
      const t: Tracked = { socket, closed: false };
      socket.on('error', () => {}); // a refused or reset connection ends with 'close' below
      socket.on('close', () => (t.closed = true));
      out.push(t);
    }
  }
  return out;
}

/** Sends `message` and resolves with what came back once as many bytes arrived. */
export async function echoOnce(socket: net.Socket, message: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  const reply = readUntil(socket, (got) => got.length >= message.length, timeoutMs);
  socket.write(message);
  return reply;
}

/** A message unique to connection `i`, so a reply sent to the wrong connection is caught. */
export function messageFor(i: number): Buffer {
  return Buffer.from(`connection ${i} says hello ${'.'.repeat(i % 17)}\n`);
}

/** Resident memory of every process in the group led by `pgid`, bytes. */
export function groupRssBytes(pgid: number): number {
  return groupMembers(pgid).reduce((sum, p) => sum + p.rssBytes, 0);
}

/** Resolves once `check()` is true, polling every 20 ms; rejects after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Keeps every socket busy: each sends `size` bytes, waits for all of them to come back, checks them
 * and sends again until stop(). Counts completed exchanges and replies that differ from what was sent.
 */
export function keepEchoing(sockets: net.Socket[], size = 64): { exchanges(): number; mismatches(): number; stop(): void } {
  let running = true;
  let exchanges = 0;
  let mismatches = 0;
  sockets.forEach((socket, i) => {
    const message = Buffer.alloc(size, i & 0xff);
    let got = 0;
    socket.on('data', (d: Buffer) => {
      for (const byte of d) if (byte !== (i & 0xff)) mismatches++;
      got += d.length;
      if (got < size) return;
      got = 0;
      exchanges++;
      if (running) socket.write(message);
    });
    socket.on('error', () => {});
    socket.write(message);
  });
  return {
    exchanges: () => exchanges,
    mismatches: () => mismatches,
    stop: () => {
      running = false;
    },
  };
}
