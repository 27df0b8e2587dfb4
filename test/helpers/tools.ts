// One meaning for "this test needs X", for everything a test may need from outside npm: io_uring in
// the kernel, a C compiler, wrk, chromium, nginx, redis-server, Python and its packages, root. Every such test asks
// here. Where X is missing the test is skipped with a note on stderr naming X and how to get it;
// under CB_REQUIRE_TOOLS=1 (set by .ci/run, which installs what a package can provide) the test
// fails instead, with the same words. Only the tests that need X are affected, never the rest of
// their file. The README's "Tests" section lists what .ci/run installs and what it cannot.
import { execFileSync } from 'node:child_process';
import { onPath } from '../../sys/path.js';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { choosePinning } from '../../harness/env.js';

/** What a test can need: a fixed name, or `python3:<module>` for a module Debian's python3 must import. */
export type Requirement = 'io_uring' | 'cc' | 'wrk' | 'chromium' | 'nginx' | 'redis-server' | 'root' | 'pinning' | 'python3' | 'netns' | 'sshd' | `python3:${string}`;

/** The python3 the examples run (examples/models.json). */
export const PYTHON = '/usr/bin/python3';


/** The chromium a test can drive, or null. */
export function chromiumPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * Whether this kernel lets us set up an io_uring (it may be missing, disabled by the
 * kernel.io_uring_disabled sysctl, or refused by a sandbox): one io_uring_setup in a child process,
 * which the ring dies with.
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

/** Whether this process may make a network namespace (and a veth pair into it): one made and removed now. */
function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0 || !onPath('ip')) return false;
  const ns = `cbprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'ignore' });
    execFileSync('ip', ['link', 'add', `cbp${process.pid % 100000}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); // takes its end of the pair, and so the pair, with it
    } catch {
      // never made
    }
  }
}

function pythonImports(module: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** How to check each requirement, and how to get it where it is missing. */
function check(r: Requirement): { present: () => boolean; how: string } {
  if (r.startsWith('python3:')) {
    const module = r.slice('python3:'.length);
    return { present: () => existsSync(PYTHON) && pythonImports(module), how: `apt-get install python3-${module}` };
  }
  switch (r) {
    case 'io_uring':
      return { present: ioUringAvailable, how: 'a kernel with io_uring enabled (Linux 5.19+, sysctl kernel.io_uring_disabled=0, not refused by a sandbox); no package provides it' };
    case 'cc':
      return { present: () => onPath('cc'), how: 'apt-get install gcc' };
    case 'wrk':
      return { present: () => onPath('wrk'), how: 'apt-get install wrk' };
    case 'chromium':
      return { present: () => chromiumPath() !== null, how: 'apt-get install chromium' };
    case 'nginx':
      return { present: () => onPath('nginx'), how: 'apt-get install nginx-light' };
    case 'redis-server':
      return { present: () => onPath('redis-server'), how: 'apt-get install redis-server' };
    case 'root':
      return { present: () => process.getuid?.() === 0 && onPath('setpriv') && onPath('prlimit'), how: 'run the tests as root (setpriv and prlimit come with util-linux)' };
    case 'pinning':
      return { present: () => choosePinning(true).client !== null, how: 'two or more CPUs and taskset (util-linux), so the harness pins server and client apart' };
    case 'python3':
      return { present: () => existsSync(PYTHON), how: 'apt-get install python3' };
    case 'netns':
      return { present: netnsAvailable, how: 'root and iproute2 (ip netns), in a kernel and sandbox that allow network namespaces, bridges and veth pairs' };
    case 'sshd':
      return { present: () => existsSync('/usr/sbin/sshd') && onPath('ssh') && onPath('ssh-keygen'), how: 'apt-get install openssh-server openssh-client' };
    default:
      throw new Error(`tools: unknown requirement "${r as string}"`);
  }
}

const known = new Map<Requirement, boolean>();
const noted = new Set<string>();

/** Whether the requirement is met on this machine (checked once per test process). */
export function has(r: Requirement): boolean {
  let v = known.get(r);
  if (v === undefined) known.set(r, (v = check(r).present()));
  return v;
}

export const requiringTools = (): boolean => process.env.CB_REQUIRE_TOOLS === '1';

/** The requirements of `rs` that are missing, and the sentence that names them. */
function missing(rs: readonly Requirement[]): { names: Requirement[]; sentence: string } | null {
  const names = rs.filter((r) => !has(r));
  if (names.length === 0) return null;
  return { names, sentence: names.map((r) => `${r} (${check(r).how})`).join(', ') };
}

/**
 * The one rule, for a requirement checked by hand (`present`): true when it is there; when it is
 * not, a note on stderr and false, or under CB_REQUIRE_TOOLS=1 an error naming it and `install`.
 */
export function requireTool(name: string, present: boolean, install = `apt-get install ${name}`): boolean {
  if (present) return true;
  if (requiringTools()) throw new Error(`${name} is required (CB_REQUIRE_TOOLS=1) but not found; ${install}`);
  if (!noted.has(name)) process.stderr.write(`skipped the ${name} part: ${name} not found (${install} to run it)\n`);
  noted.add(name);
  return false;
}

type TestFn = () => unknown;

/**
 * `it` for a test that needs `rs`: the test as written when they are there; otherwise skipped with
 * a note, or under CB_REQUIRE_TOOLS=1 a test of the same name that fails naming what is missing.
 */
export function itNeeds(rs: readonly Requirement[]): (name: string, fn: TestFn, timeout?: number) => void {
  const m = missing(rs);
  if (m === null) return (name, fn, timeout) => it(name, fn, timeout);
  return (name, _fn, timeout) => {
    if (requiringTools()) return it(name, () => fail(m.sentence), timeout);
    note(name, m.sentence);
    it.skip(`${name} (needs ${m.names.join(', ')})`, () => {});
  };
}

/** `describe` for tests that all need `rs`, with itNeeds' three outcomes (one failing test under CB_REQUIRE_TOOLS=1). */
export function describeNeeds(rs: readonly Requirement[]): (name: string, fn: () => void) => void {
  const m = missing(rs);
  if (m === null) return (name, fn) => describe(name, fn);
  return (name) => {
    if (requiringTools()) return describe(name, () => it('has what it needs', () => fail(m.sentence)));
    note(name, m.sentence);
    describe.skip(`${name} (needs ${m.names.join(', ')})`, () => it('needs what is missing', () => {}));
  };
}

function fail(sentence: string): never {
  throw new Error(`missing (CB_REQUIRE_TOOLS=1, so this fails instead of skipping): ${sentence}`);
}

function note(test: string, sentence: string): void {
  process.stderr.write(`skipped "${test}": missing ${sentence}\n`);
}
