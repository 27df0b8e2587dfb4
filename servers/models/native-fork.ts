// The ceiling of process-per-connection: native/fork-server.c, fork() per connection in C.
import type { ModelOptions, RunningServer } from '../types.js';
import { startNative } from '../machinery/native-server.js';

export function start(o: ModelOptions): Promise<RunningServer> {
  return startNative({ model: 'native-fork', source: 'native/fork-server.c', binary: 'native/build/fork-server', cflags: [] }, o);
}
