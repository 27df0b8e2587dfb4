// Node's own event loop: libuv watches every socket with epoll and calls back on data. In io-wait a
// request awaits its backend answer while the loop serves the others; in cpu the work runs on the
// loop itself, so every other connection waits for it (thread-offload hands it to a pool instead).
// The backend is awaited through pg for postgres (backend-pg.ts), through AsyncBackend for the service.
import type { ModelOptions, RunningServer } from '../types.js';
import { startAsync } from '../machinery/async-serve.js';

export function start(o: ModelOptions): Promise<RunningServer> {
  return startAsync(o);
}
