// Main-thread side of the acceptor thread (acceptor-thread.ts): start it, receive its connections,
// stop it. Used by the models that hand each connection to a new child or a new thread.
import { Worker } from 'node:worker_threads';
import { close, listenTcp } from '../../sys/socket.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { StopFlag } from './blocking-conn.js';
import type { AcceptorData, AcceptorMessage } from './blocking-messages.js';

const ACCEPTOR_THREAD = new URL('./acceptor-thread.js', import.meta.url);
/** The thread notices the flag within IO_TIMEOUT_MS; past this it is terminated, ms. */
const STOP_GRACE_MS = 1000;

export interface AcceptorHandlers {
  /** A new connection, blocking, FD_CLOEXEC; the handler owns it from now on and must close it. */
  connection(fd: number): void;
  /** accept() ran out of descriptors or memory. */
  limit(reason: string): void;
}

export interface Acceptor {
  /** Stops accepting and resolves when the thread has ended; the listener stays open. */
  stop(): Promise<void>;
}

/** Resolves once the thread is blocking in accept(). A fatal accept error later is thrown (uncaught). */
function startAcceptor(listenFd: number, handlers: AcceptorHandlers): Promise<Acceptor> {
  const flag = new StopFlag();
  const data: AcceptorData = { listenFd, stop: flag.buffer };
  const thread = new Worker(ACCEPTOR_THREAD, { workerData: data });
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let ready = false;
    thread.on('message', (m: AcceptorMessage) => {
      if (m.event === 'connection') handlers.connection(m.fd);
      else if (m.event === 'limit') handlers.limit(m.reason);
      else {
        ready = true;
        resolve({ stop: () => stopThread(thread, flag, exited) });
      }
    });
    thread.on('error', (e) => {
      if (!ready) return reject(e);
      throw e; // EBADF/EINVAL on the listener: a bug; crash loudly as an unhandled server error would
    });
    void exited.then(() => {
      if (!ready) reject(new Error('acceptor thread exited before it was ready'));
    });
  });
}

async function stopThread(thread: Worker, flag: StopFlag, exited: Promise<void>): Promise<void> {
  flag.stop();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), STOP_GRACE_MS)));
  if ((await Promise.race([exited, late])) === 'late') await thread.terminate();
  clearTimeout(timer);
}

export interface HandOff extends AcceptorHandlers {
  /** Refuse new hand-offs from now on (close() calls it first). */
  stop(): void;
  /** Resolves when every child, thread or task serving a connection has ended. */
  drain(): Promise<void>;
}

/**
 * The RunningServer of a model that hands each accepted connection to someone else: a blocking
 * listener with the acceptor thread on it, and a close() that refuses new hand-offs, stops
 * accepting, closes the listener, and waits for the connections' workers to end, in that order.
 */
export async function acceptAndHandOff(o: ModelOptions, h: HandOff): Promise<RunningServer> {
  const listener = listenTcp(o.host, o.port, { nonBlocking: false });
  const acceptor = await startAcceptor(listener.fd, h).catch((e: unknown) => {
    close(listener.fd);
    throw e;
  });
  return {
    host: o.host,
    port: listener.port,
    close: async () => {
      h.stop();
      await acceptor.stop();
      close(listener.fd);
      await h.drain();
    },
  };
}
