// Messages between a server process and its parent, and the shape every model exports.
import type { Protocol } from '../schema/catalog.js';
import type { Work } from '../schema/work.js';

/** The one line a server prints on stdout when it accepts connections. */
export interface ListeningMessage {
  event: 'listening';
  host: string;
  port: number;
  pid: number;
}

/** Printed on stdout instead of `listening` when the server cannot start; `code` says why. */
export interface ServerErrorMessage {
  event: 'error';
  code: string;
  message: string;
}

/**
 * Printed (once per reason is enough) when the model reaches a limit that is part of its nature:
 * a descriptor select() cannot watch, a process or thread that cannot be started. The harness
 * records the cell as `limit` with this reason instead of `ok`.
 */
export interface LimitMessage {
  event: 'limit';
  reason: string;
}

/** Printed when something outside the model went wrong (see work.ts reportFault): the cell fails. */
export interface FaultMessage {
  event: 'fault';
  reason: string;
}

export type ServerMessage = ListeningMessage | ServerErrorMessage | LimitMessage | FaultMessage;

export interface ModelOptions {
  protocol: Protocol;
  /** Always a loopback address in this project. */
  host: string;
  /** 0 asks the kernel for a free port. */
  port: number;
  /** Threads or processes for models that use a fixed number of them. */
  workers: number;
  /** What each request does before its reply (scenario io-wait or cpu); none by default. */
  work: Work;
}

export interface RunningServer {
  host: string;
  port: number;
  /** Stop accepting, close every connection and release every thread and child; resolves when done. */
  close(): Promise<void>;
}

/** What every servers/models/<name>.ts exports. */
export interface Model {
  start(options: ModelOptions): Promise<RunningServer>;
}
