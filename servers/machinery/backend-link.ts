// How a server reaches the backend of an io-wait spec: the sessions it opens and how long it waits.
import { readFileSync } from 'node:fs';
import type { BackendSession } from '../../protocols/backend-session.js';
import { PostgresSession } from '../../protocols/postgres.js';
import { ServiceSession } from '../../protocols/service.js';
import type { IoWaitWork, PostgresTarget } from '../../schema/work.js';

/** The password of a PostgreSQL login, from its 0600 file (null under trust). */
export function readPassword(pg: PostgresTarget): string | null {
  return pg.passwordFile === null ? null : readFileSync(pg.passwordFile, 'utf8').trim();
}

/**
 * A factory of backend sessions for this server process: the password (postgres) is read once, here,
 * from its file, and never passes through a command line or a message.
 */
export function backendSessions(work: IoWaitWork): () => BackendSession {
  if (work.backend === 'service') return () => new ServiceSession();
  const pg = work.postgres!;
  const password = readPassword(pg);
  return () => new PostgresSession({ user: pg.user, database: pg.database, password, delayMs: pg.delayMs });
}

/** How long a server waits for one backend answer before it calls the backend dead, ms. */
export const BACKEND_TIMEOUT_MS = 5000;
