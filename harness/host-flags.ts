// The plan's hosts as flags: --server-host, --db-host, --load-hosts (each `[user@]host[:port]`), --ssh-config,
// --remote-dir, parsed and checked against what a plan across machines can run, before anything
// starts. Pure: the ssh side (reaching and checking each host) is hosts.ts.
import { PlanError } from '../schema/flags.js';
import { PROJECT_ROOT } from './paths.js';

export type HostRole = 'server' | 'db' | 'load';

export interface HostSpec {
  /** As given, `[user@]host[:port]`: how the host is named in every message and in the results. */
  spec: string;
  user: string | null;
  host: string;
  port: number | null;
  role: HostRole;
}

/** Where the plan runs when it names hosts; null in Plan when it names none (everything on loopback). */
export interface HostsPlan {
  server: HostSpec | null;
  /** Where io-wait's database and service stand-in run; null: the plan runs no io-wait. */
  db: HostSpec | null;
  load: HostSpec[];
  /** ssh -F FILE, or null for the user's own configuration. */
  sshConfig: string | null;
  /** The project's folder on every host (holding dist/ and node_modules/). */
  remoteDir: string;
}

/**
 * The argument the remote wrapper's --secret replaces with the path of the file it wrote the
 * secret to (harness/remote-group.ts): how the server host's servers get the database's password.
 */
export const SECRET_FILE = '@secret-file@';

/** The flag that names a host of each role, for messages. */
export const FLAG: Record<HostRole, string> = { server: '--server-host', db: '--db-host', load: '--load-hosts' };

export function parseHost(flag: string, raw: string, role: HostRole): HostSpec {
  const m = /^(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d+))?$/.exec(raw);
  const port = m?.[3] !== undefined ? Number(m[3]) : null;
  if (!m || (port !== null && (port < 1 || port > 65535))) throw new PlanError(`${flag}: expected [user@]host[:port] such as bench@10.0.0.2:22, got "${raw}"`);
  return { spec: raw, user: m[1] ?? null, host: m[2]!, port, role };
}

/** The hosts flags into a HostsPlan, or null when none is given (nothing changes then). */
export function parseHostsFlags(v: { serverHost?: string; dbHost?: string; loadHosts?: string; sshConfig?: string; remoteDir?: string }): HostsPlan | null {
  if (v.serverHost === undefined && v.loadHosts === undefined && v.dbHost === undefined) {
    if (v.sshConfig !== undefined) throw new PlanError('--ssh-config: only with --server-host (and --load-hosts)');
    if (v.remoteDir !== undefined) throw new PlanError('--remote-dir: only with --server-host (and --load-hosts)');
    return null;
  }
  if (v.serverHost === undefined && v.loadHosts !== undefined) throw new PlanError('--load-hosts: needs --server-host (agents load the server host, never this machine\'s loopback)');
  if (v.serverHost === undefined) throw new PlanError('--db-host: needs --server-host (the servers that query it run there; a server on this machine queries a database on this machine)');
  const server = parseHost('--server-host', v.serverHost, 'server');
  const db = v.dbHost === undefined ? null : parseHost('--db-host', v.dbHost, 'db');
  const items = v.loadHosts === undefined ? [] : v.loadHosts.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new PlanError(`--load-hosts: expected a comma-separated list of [user@]host[:port], got "${v.loadHosts}"`);
  const load = items.map((s) => parseHost('--load-hosts', s, 'load'));
  const dup = load.find((h, i) => load.findIndex((o) => o.spec === h.spec) !== i);
  if (dup) throw new PlanError(`--load-hosts: "${dup.spec}" is named twice; one agent runs per host`);
  if (v.remoteDir !== undefined && !v.remoteDir.startsWith('/')) throw new PlanError(`--remote-dir: must be an absolute path, got "${v.remoteDir}"`);
  return { server, db, load, sshConfig: v.sshConfig ?? null, remoteDir: v.remoteDir ?? PROJECT_ROOT };
}

/** What a plan across hosts can run today, refused up front (exit 2) with what it cannot. */
export function checkHostsPlan(p: { hosts?: HostsPlan | null; scenarios: readonly string[]; external: readonly { name: string }[]; models: readonly string[]; httpClient: string; postgresUrl?: string | null }): void {
  if (!p.hosts) return;
  const scenarios = p.hosts.db ? [...HOST_SCENARIOS, 'io-wait'] : HOST_SCENARIOS;
  const unsupported = p.scenarios.filter((s) => !scenarios.includes(s));
  if (unsupported.length > 0) {
    const why = unsupported.map((s) => LOCAL_ONLY[s]).filter(Boolean);
    throw new PlanError(`--server-host: runs the scenarios ${scenarios.join(', ')} across machines; leave out ${unsupported.join(', ')} (--scenarios)${why.length > 0 ? `: ${why.join('; ')}` : ''}`);
  }
  const ext = p.external.filter((m) => p.models.includes(m.name));
  if (ext.length > 0) throw new PlanError(`--server-host: runs the built-in models only; leave out ${ext.map((m) => m.name).join(', ')} (--models)`);
  if (p.hosts.db && !p.scenarios.includes('io-wait')) throw new PlanError('--db-host: only io-wait queries a database; add io-wait to --scenarios or leave out --db-host');
  if (p.hosts.db && p.postgresUrl) throw new PlanError('--db-host: runs the embedded PostgreSQL there; --postgres-url names a database on this machine, leave one of them out');
  if (p.httpClient !== 'native') throw new PlanError(`--server-host: agents share a schedule with --http-client native only, got ${p.httpClient}`);
}

/** Scenarios a plan across hosts runs: those whose server needs nothing but its port (and io-wait, given a --db-host). */
export const HOST_SCENARIOS: readonly string[] = ['steady', 'churn', 'payload'];

/** Why a scenario outside HOST_SCENARIOS cannot run across hosts yet: what of it is tied to this machine. */
const LOCAL_ONLY: Readonly<Record<string, string>> = {
  'io-wait': 'its database and service stand-in need a host of their own: give --db-host',
  idle: 'its crowd of idle connections is opened from this machine, not by the agents',
};
