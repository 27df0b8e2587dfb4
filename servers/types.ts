// The shape every model exports (the lines a server prints are in schema/messages.ts).
import type { Protocol } from '../schema/catalog.js';
import type { Work } from '../schema/work.js';

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
