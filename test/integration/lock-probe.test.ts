// An integration file like every other: it starts a server and loads it, so it holds the run lock
// (lock-setup.ts) while it runs. run-lock.test.ts starts it as `npm test` while a bench runs, with
// CB_TEST_LOCK_PROBE naming a file to write down when its server started; on its own it is one
// echo round trip.
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { lockHolder } from '../../harness/guard.js';
import { echoOnce } from '../helpers/load.js';
import { connect, startServer } from '../helpers/server.js';

it('starts its server only while it holds the run lock', async () => {
  expect(lockHolder()?.pid).toBe(process.pid);
  const startedAtMs = Date.now();
  const server = await startServer('async', 'echo');
  try {
    const socket = await connect(server.port);
    expect((await echoOnce(socket, Buffer.from('probe\n'))).toString()).toBe('probe\n');
    socket.destroy();
  } finally {
    await server.stop();
  }
  const record = process.env.CB_TEST_LOCK_PROBE;
  if (record) writeFileSync(record, JSON.stringify({ pid: process.pid, startedAtMs }));
});
