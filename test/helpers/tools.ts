import { execFileSync } from 'node:child_process';

// Tests that need an outside tool (wrk, chromium) skip with a note where it is missing, unless
// CB_REQUIRE_TOOLS=1 (set by .ci/run, which installs them): then a missing tool fails the test.

/** True when the tool is there; false (with a note) when it may be skipped; throws when it is required. */
export function requireTool(name: string, present: boolean, install = `apt-get install ${name}`): boolean {
  if (present) return true;
  if (process.env.CB_REQUIRE_TOOLS === '1') throw new Error(`${name} is required (CB_REQUIRE_TOOLS=1) but not found; ${install}`);
  process.stderr.write(`skipped the ${name} part: ${name} not found (${install} to run it)\n`);
  return false;
}

/**
 * Whether this kernel lets us set up an io_uring (it may be missing, or refused by a sandbox):
 * one io_uring_setup in a child process, which the ring dies with.
 */
export function ioUringAvailable(): boolean {
  const probe = "require('koffi').load('libc.so.6').func('syscall','long',['long','uint32_t','void *'])(425, 8, Buffer.alloc(120)) >= 0 || process.exit(1)";
  try {
    execFileSync(process.execPath, ['-e', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
