// The wire format of io-wait's remote-service stand-in (servers/backend.ts): a query is `Q` + 8 hex
// digits + LF (10 bytes); the answer, after the delay, is `A` + the same 8 digits, padded with '.'
// to ANSWER_BYTES ending in LF. Fixed sizes keep every client's parsing to a length check and one
// comparison. ServiceSession speaks it through the BackendSession shape every model drives.
import { ANSWERED, FAULT, MORE, type BackendSession, type Step } from './backend-session.js';

export const QUERY_BYTES = 10;
export const ANSWER_BYTES = 64;

export function queryBytes(id: number, into: Buffer = Buffer.alloc(QUERY_BYTES)): Buffer {
  into[0] = 0x51; // 'Q'
  const hex = (id >>> 0).toString(16).padStart(8, '0');
  into.write(hex, 1, 8, 'latin1');
  into[QUERY_BYTES - 1] = 0x0a;
  return into;
}

export function answerFor(query: Buffer, at = 0): Buffer {
  const a = Buffer.alloc(ANSWER_BYTES, 0x2e);
  a[0] = 0x41; // 'A'
  query.copy(a, 1, at + 1, at + 9);
  a[ANSWER_BYTES - 1] = 0x0a;
  return a;
}

/** null when `answer` (ANSWER_BYTES long) answers `query`, else what is wrong with it. */
export function checkAnswer(query: Buffer, answer: Buffer): string | null {
  if (answer.length !== ANSWER_BYTES || answer[0] !== 0x41 || answer[ANSWER_BYTES - 1] !== 0x0a) return 'malformed backend answer';
  for (let i = 1; i < 9; i++) if (answer[i] !== query[i]) return 'backend answered a different query';
  return null;
}

/** One connection to the service: no handshake, one 10-byte query and one 64-byte answer at a time. */
export class ServiceSession implements BackendSession {
  fault: string | null = null;
  private readonly q = Buffer.alloc(QUERY_BYTES);
  private readonly answer = Buffer.alloc(ANSWER_BYTES);
  private got = 0;
  private inFlight = false;
  private pending = false;

  query(id: number): void {
    queryBytes(id, this.q);
    this.got = 0;
    this.inFlight = true;
    this.pending = true;
  }

  take(): Buffer | null {
    if (!this.pending) return null;
    this.pending = false;
    return this.q;
  }

  feed(data: Buffer, start: number, end: number): Step {
    const n = end - start;
    if (!this.inFlight || this.got + n > ANSWER_BYTES) return this.fail('the backend sent more than one answer');
    data.copy(this.answer, this.got, start, end);
    this.got += n;
    if (this.got < ANSWER_BYTES) return MORE;
    this.inFlight = false;
    const wrong = checkAnswer(this.q, this.answer);
    return wrong === null ? ANSWERED : this.fail(wrong);
  }

  private fail(reason: string): Step {
    this.fault = reason;
    return FAULT;
  }
}
