// A test bed of hosts on this machine: one network namespace per host, each joined by a veth pair to
// one bridge, each running Debian's sshd on its own address with a throwaway host key and a
// throwaway client key, all made and removed by the test itself. The namespaces share this
// machine's file system (the same checkout, the same /usr/bin/node) and its cores: the bed proves
// coordination, merging, clean-up and refusal, never speed. Packets go only between the bridge and
// the namespaces' own addresses (10.231.N.0/24, N from the test's pid).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BedHost {
  /** Namespace name. */
  ns: string;
  address: string;
  /** As a plan names it: root@address. */
  spec: string;
  sshd: ChildProcess;
}

export interface TestBed {
  dir: string;
  /** ssh -F this file reaches every host with the bed's key. */
  sshConfig: string;
  hosts: BedHost[];
  /** Pids in a host's namespace other than its sshd listener. */
  strayPids(h: BedHost): number[];
  /** The host dies: every process in its namespace is killed, sshd included. */
  kill(h: BedHost): void;
  remove(): void;
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

function pidsIn(ns: string): number[] {
  try {
    return ip('netns', 'pids', ns).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * `hosts` namespaces; a host listed in `withoutNode` gets a PATH with nothing but sh in its ssh
 * sessions (sshd's SetEnv), so it is a host without Node.
 */
export async function makeTestBed(hosts: number, withoutNode: number[] = []): Promise<TestBed> {
  const id = process.pid % 100000;
  const net = `10.231.${process.pid % 250}`;
  const dir = mkdtempSync(join(tmpdir(), 'cb-bed-'));
  const bridge = `cbbr${id}`;
  const made: BedHost[] = [];
  const namespaces: string[] = [];
  const remove = (): void => {
    for (const h of made) h.sshd.kill('SIGKILL');
    for (const ns of namespaces) {
      for (const pid of pidsIn(ns)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      try {
        ip('netns', 'del', ns);
      } catch {
        // never made
      }
    }
    try {
      ip('link', 'del', bridge);
    } catch {
      // never made
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hostkey')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
    execFileSync('cp', [join(dir, 'id.pub'), join(dir, 'authorized_keys')]);
    mkdirSync(join(dir, 'nonode'));
    symlinkSync('/bin/sh', join(dir, 'nonode', 'sh'));
    mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation folder
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${net}.254/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (let n = 1; n <= hosts; n++) {
      const ns = `cb${id}h${n}`;
      const address = `${net}.${n}`;
      ip('netns', 'add', ns);
      namespaces.push(ns);
      ip('link', 'add', `cbv${id}h${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('link', 'set', `cbv${id}h${n}`, 'master', bridge, 'up');
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      const config = join(dir, `sshd-${n}.conf`);
      writeFileSync(config, [
        `ListenAddress ${address}`, `HostKey ${join(dir, 'hostkey')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, `sshd-${n}.pid`)}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
        'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'ClientAliveInterval 2', 'ClientAliveCountMax 3',
        ...(withoutNode.includes(n) ? [`SetEnv PATH=${join(dir, 'nonode')}`] : []), '',
      ].join('\n'));
      const sshd = spawn('ip', ['netns', 'exec', ns, '/usr/sbin/sshd', '-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      made.push({ ns, address, spec: `root@${address}`, sshd });
      await new Promise<void>((resolve, reject) => {
        let err = '';
        const timer = setTimeout(() => reject(new Error(`sshd in ${ns} did not start: ${err}`)), 5000);
        sshd.stderr!.setEncoding('utf8').on('data', (d: string) => {
          err += d;
          if (err.includes('Server listening')) {
            clearTimeout(timer);
            resolve();
          }
        });
        sshd.on('exit', (code) => reject(new Error(`sshd in ${ns} exited (${code}): ${err}`)));
      });
    }
    const sshConfig = join(dir, 'ssh_config');
    writeFileSync(sshConfig, ['Host *', `  IdentityFile ${join(dir, 'id')}`, '  IdentitiesOnly yes', '  UserKnownHostsFile /dev/null',
      '  StrictHostKeyChecking no', '  LogLevel ERROR', '  User root', ''].join('\n'));
    return {
      dir,
      sshConfig,
      hosts: made,
      strayPids: (h) => pidsIn(h.ns).filter((p) => p !== h.sshd.pid && !isListener(p)),
      kill: (h) => {
        for (const pid of pidsIn(h.ns)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      },
      remove,
    };
  } catch (e) {
    remove();
    throw e;
  }
}

/** sshd's listener: `ip netns exec` execs it, so its pid is the spawned one; this catches a re-exec. */
function isListener(pid: number): boolean {
  try {
    return execFileSync('cat', [`/proc/${pid}/cmdline`], { encoding: 'utf8' }).includes('sshd') &&
      execFileSync('cat', [`/proc/${pid}/cmdline`], { encoding: 'utf8' }).includes('-D');
  } catch {
    return false;
  }
}
