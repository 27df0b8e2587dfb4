// Run before every test file (vitest.config.ts setupFiles). An integration test file starts servers
// and load, so it holds the machine's run lock while it runs: during a benchmark it waits for it
// (saying so), and a benchmark started meanwhile is refused, naming the file. Unit tests are pure
// code and take nothing. Files run one at a time (fileParallelism: false), each in its own process.
import { relative } from 'node:path';
import { afterAll, expect } from 'vitest';
import { PROJECT_ROOT } from '../../harness/paths.js';
import { holdRunLockForTests, releaseTestLock } from './run-lock.js';

const file = relative(PROJECT_ROOT, expect.getState().testPath ?? '');
if (file.startsWith('test/integration/')) {
  await holdRunLockForTests(`npm test: ${file}`);
  afterAll(() => releaseTestLock());
}
