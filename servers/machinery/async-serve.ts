// Node's event loop serving the shared protocol code: the node:net server of async, cluster workers
// and thread-offload, and the gate each reply waits on (inline CPU, an awaited backend query).
import net from 'node:net';
import { AsyncBackend } from './backend-async.js';
import { PgBackend } from './backend-pg.js';
import { createSession } from '../../protocols/session.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { burn, type Work } from '../../schema/work.js';
import { reportFault } from './limit-report.js';
import { listenNode } from './node-listen.js';

/**
 * What runs before each reply: null for nothing; else a function returning null (done at once), a
 * fault, or a promise of either.
 */
export type AsyncGate = (() => string | null | Promise<string | null>) | null;

/**
 * The gate of the plain event loop: CPU work run inline; backend queries awaited, through pg for
 * postgres (as a Node user queries a database) and through a session pool for the service. `close`
 * ends the backend's connections (pg's pool: once its queries are done).
 */
export function loopGate(work: Work): { gate: AsyncGate; close: () => void | Promise<void> } {
  if (work.kind === 'cpu') {
    const n = work.iterations;
    return { gate: () => (burn(n), null), close: () => {} };
  }
  if (work.kind !== 'io-wait') return { gate: null, close: () => {} };
  const backend = work.backend === 'postgres' ? new PgBackend(work) : new AsyncBackend(work);
  return { gate: () => backend.query(), close: () => backend.close() };
}

/** The async model's server: the plain loop's gate before each reply (cluster workers run the same). */
export async function startAsync(o: ModelOptions): Promise<RunningServer> {
  const { gate, close } = loopGate(o.work);
  const server = await serveAsync(o, gate);
  return { ...server, close: () => server.close().finally(close) };
}

/** The node:net server of async, cluster workers and thread-offload; `gate` runs before each reply. */
export function serveAsync(o: ModelOptions, gate: AsyncGate): Promise<RunningServer> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const session = createSession(o.protocol);
    let drainWait = false;
    let gateWait = false;
    const send = (out: Buffer): void => {
      // Pausing on a full write buffer is how an event loop applies back-pressure: a client that
      // sends without reading stalls only its own connection, and memory stays bounded.
      if (!socket.write(out)) {
        drainWait = true;
        socket.pause();
        socket.once('drain', () => {
          drainWait = false;
          if (!gateWait) socket.resume();
        });
      }
      if (session.closeAfterReply) socket.end();
    };
    const fail = (fault: string): void => {
      reportFault(fault);
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      const out = session.feed(chunk);
      if (out === null) {
        if (session.closeAfterReply) socket.end();
        return;
      }
      const g = gate === null ? null : gate();
      if (g === null) return send(out);
      if (typeof g === 'string') return fail(g);
      // The reply waits for the gate; the connection reads nothing more until it is sent, as a
      // blocking server would, so replies keep their order.
      gateWait = true;
      socket.pause();
      void g.then((fault) => {
        gateWait = false;
        if (socket.destroyed) return;
        if (fault !== null) return fail(fault);
        send(out);
        if (!drainWait && !socket.writableEnded) socket.resume();
      });
    });
    // A client that resets its connection is normal under load; 'close' follows and cleans up.
    socket.on('error', () => {});
  });
  return listenNode(server, o);
}
