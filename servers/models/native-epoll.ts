// The ceiling: native/epoll-server.c, the same single-threaded level-triggered epoll loop as epoll.ts, in C.
import type { ModelOptions, RunningServer } from '../types.js';
import { startNative } from '../machinery/native-server.js';

export function start(o: ModelOptions): Promise<RunningServer> {
  return startNative({ model: 'native-epoll', source: 'native/epoll-server.c', binary: 'native/build/epoll-server', cflags: [] }, o);
}
