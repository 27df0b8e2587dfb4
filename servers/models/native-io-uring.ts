// The ceiling of io-uring: native/io-uring-server.c, the same completion-based loop in C on raw syscalls.
import type { ModelOptions, RunningServer } from '../types.js';
import { startNative } from '../machinery/native-server.js';

export function start(o: ModelOptions): Promise<RunningServer> {
  return startNative({ model: 'native-io-uring', source: 'native/io-uring-server.c', binary: 'native/build/io-uring-server', cflags: [] }, o);
}
