// A throwaway git history for the tests that need one (bench:ci --base-ref): the project as it is
// on disk committed into a scratch repository, further commits on top, and a fresh clone of it, as
// CI clones. Git runs without this machine's configuration, as on a new CI runner where no
// user.email is set; commits name their author with -c flags.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * This process's environment without git's variables (a test started from a git hook inherits
 * GIT_DIR and GIT_INDEX_FILE) and with no global or system configuration.
 */
export function gitFreeEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
  return { ...env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
}

const IDENTITY = ['-c', 'user.name=concurrency-bench tests', '-c', 'user.email=tests@concurrency-bench.invalid'];

export function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitFreeEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Commits every change in `repo` (a scratch repository of a test's own) and returns the commit. */
export function commitAll(repo: string, message: string): string {
  git(repo, ['add', '--all']);
  git(repo, [...IDENTITY, 'commit', '--quiet', '--no-verify', '-m', message]);
  return git(repo, ['rev-parse', 'HEAD']);
}

/**
 * A new repository in `dir` whose first commit, on `main`, holds the files of the checkout at
 * `root` as they are on disk (tracked and untracked, not ignored): the code under test, edits not
 * yet committed included.
 */
export function repositoryOfWorkingTree(root: string, dir: string): string {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, env: gitFreeEnv(), encoding: 'utf8' })
    .split('\0')
    // A tracked file deleted on disk is listed too; and a node_modules that is a symlink is not
    // ignored by "node_modules/", which matches folders only: only regular files are the code.
    .filter((f) => f !== '' && existsSync(join(root, f)) && lstatSync(join(root, f)).isFile());
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(root, f), join(dir, f));
    chmodSync(join(dir, f), statSync(join(root, f)).mode & 0o777); // .ci/run stays executable
  }
  git(dir, ['init', '--quiet', '--initial-branch', 'main']);
  return commitAll(dir, 'the working tree under test');
}

/** Replaces `anchor` (which must occur exactly once) in a file, or throws naming the file. */
export function patchFile(path: string, anchor: string, replacement: string): void {
  const text = readFileSync(path, 'utf8');
  if (text.split(anchor).length !== 2) throw new Error(`patchFile: ${path} no longer contains "${anchor}" exactly once; update the test's patch`);
  writeFileSync(path, text.replace(anchor, replacement));
}

/** Removes the extra worktrees of `repo` (a run killed mid-way leaves its base's), then the folders. */
export function removeRepositories(repo: string | null, dirs: string[]): void {
  if (repo && existsSync(repo)) {
    let listing = '';
    try {
      listing = git(repo, ['worktree', 'list', '--porcelain']);
    } catch {
      // not a repository (yet): only the folders go
    }
    const worktrees = listing.split('\n').filter((l) => l.startsWith('worktree ')).map((l) => l.slice('worktree '.length));
    for (const w of worktrees.slice(1)) rmSync(w, { recursive: true, force: true }); // the first is the clone itself
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
