// One connection to the io-wait backend as pure protocol: bytes in, bytes out, no I/O. Both
// backends speak through this shape (the remote-service stand-in in service.ts, PostgreSQL in
// postgres.ts), so every model drives either one with the same loop, in its own style of waiting:
//
//   s.query(id); send(s.take());
//   loop { n = recv(buf); st = s.feed(buf, 0, n); out = s.take(); if (out) send(out);
//          if (st === ANSWERED) done; if (st === FAULT) fail(s.fault); }
//
// A new session may be given its first query at once: one that must first authenticate (postgres)
// keeps the query back and sends it after the handshake, by itself, from feed().

/** feed() needs more bytes (send take() first if it has any). */
export const MORE = 0;
/** The query given to query() was answered and its row checked: the connection is idle again. */
export const ANSWERED = 1;
/** Something is wrong (see `fault`): the connection must be closed, the request failed. */
export const FAULT = 2;

export type Step = typeof MORE | typeof ANSWERED | typeof FAULT;

export interface BackendSession {
  /**
   * Starts a query for row `id` (1..ROWS). At most one query is in flight per session; call it
   * again only after ANSWERED.
   */
  query(id: number): void;
  /**
   * The bytes to send now, or null. Taking them clears them. The buffer may be reused by the
   * session for its next query, so send (or copy) it before calling query() again.
   */
  take(): Buffer | null;
  /**
   * Consumes `data[start, end)`, received on the connection; messages may be split or coalesced
   * anywhere. The session copies what it keeps, so the caller may reuse `data` at once.
   */
  feed(data: Buffer, start: number, end: number): Step;
  /** Why the session stopped, once feed() returned FAULT. */
  readonly fault: string | null;
}

/** The rows of the io-wait table: ids 1..ROWS, as in TechEmpower's World. */
export const ROWS = 10_000;

/**
 * The randomnumber of row `id`, which the harness loads and every model checks: a multiplicative
 * hash, so a wrong row is caught without a table of expected values. Mirrored in SQL by
 * `WORLD_ROW_SQL` (database.ts loads it), and both are tested to agree.
 */
export function randomNumberOf(id: number): number {
  return Number((BigInt(id) * 2654435761n) % 10000n) + 1;
}

/** The same function in SQL, over a column or expression `i` (bigint arithmetic, no overflow). */
export function randomNumberSql(i: string): string {
  return `((${i})::bigint * 2654435761 % 10000 + 1)::int`;
}

/** A row id for the n-th query: spread over the table, never 0. */
export function rowFor(n: number): number {
  return (Math.imul(n, 2246822519) >>> 0) % ROWS + 1;
}
