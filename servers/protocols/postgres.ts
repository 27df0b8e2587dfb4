// PLACEHOLDER: the PostgreSQL wire-protocol session is being written (see backend-session.ts).
import { FAULT, type BackendSession, type Step } from './backend-session.js';

export interface PostgresLogin {
  user: string;
  database: string;
  /** null: trust authentication (the server must not ask for a password). */
  password: string | null;
  /** How long the database holds each query (pg_sleep), ms; 0: a plain single-row select. */
  delayMs: number;
}

export class PostgresSession implements BackendSession {
  fault: string | null = 'not implemented';
  constructor(readonly login: PostgresLogin) {}
  query(): void {}
  take(): Buffer | null {
    return null;
  }
  feed(): Step {
    return FAULT;
  }
}
