// One connection's protocol state. Every model, in any thread or process, drives one of these per
// connection, so the bytes on the wire are identical whichever model serves them.
import type { Protocol } from '../catalog.js';
import { EchoSession } from './echo.js';
import { HttpSession } from './http.js';

export interface Session {
  /**
   * Consume bytes received on the connection and return the bytes to send back, or null when there
   * is nothing to send yet. The result may be `data` itself (echo), so a caller that reuses its
   * receive buffer must send or copy the result before the next receive. The result may also be
   * a prebuilt response shared by every session (http), so callers never write into it.
   */
  feed(data: Buffer): Buffer | null;
  /** True once the connection should be closed after the bytes returned so far are sent. */
  readonly closeAfterReply: boolean;
}

export function createSession(protocol: Protocol): Session {
  return protocol === 'echo' ? new EchoSession() : new HttpSession();
}
