// The other side of the thread ping-pong: waits for the flag to be 1, sets it to 2 and wakes the
// main thread, until the flag says stop (3).
import { workerData } from 'node:worker_threads';

const flag = new Int32Array(workerData as SharedArrayBuffer);
for (;;) {
  Atomics.wait(flag, 0, 0);
  if (Atomics.load(flag, 0) === 3) break;
  Atomics.store(flag, 0, 2);
  Atomics.notify(flag, 0);
  Atomics.wait(flag, 0, 2);
}
