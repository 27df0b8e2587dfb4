// The list of models: plain data, so the harness can validate a plan without loading any model.
export type Protocol = 'echo' | 'http';
export const PROTOCOLS: readonly Protocol[] = ['echo', 'http'];

export type Family = 'per-process' | 'worker-thread' | 'nonblocking-poll' | 'selector' | 'async' | 'native';

export interface ModelInfo {
  /** The name used in flags, results and charts; also the file servers/models/<name>.ts. */
  name: string;
  family: Family;
  /** One line: what the model is and what it demonstrates. */
  description: string;
  protocols: readonly Protocol[];
  /** Limits that are part of the model's nature, shown in the README and --help. */
  limits?: string;
  /**
   * Highest concurrency the model can serve by design, if any; the harness records a cell above it
   * as `limit` with `limits` as the reason instead of running it.
   */
  maxConcurrency?: number;
}

export const MODELS: readonly ModelInfo[] = [
  {
    name: 'async',
    family: 'async',
    description: "node:net on Node's own event loop (libuv, epoll underneath) with the shared protocol code",
    protocols: ['echo', 'http'],
  },
  {
    name: 'node-http',
    family: 'async',
    description: 'node:http, the idiomatic Node HTTP server, as a reference row for the shared HTTP code',
    protocols: ['http'],
  },
];

export function findModel(name: string): ModelInfo | undefined {
  return MODELS.find((m) => m.name === name);
}

export const MODEL_NAMES: readonly string[] = MODELS.map((m) => m.name);
