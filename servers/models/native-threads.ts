// The ceiling of thread-per-connection: native/threads-server.c, a POSIX thread per connection in C.
import type { ModelOptions, RunningServer } from '../types.js';
import { startNative } from '../machinery/native-server.js';

export function start(o: ModelOptions): Promise<RunningServer> {
  return startNative({ model: 'native-threads', source: 'native/threads-server.c', binary: 'native/build/threads-server', cflags: ['-pthread'] }, o);
}
