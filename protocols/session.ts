// One connection's protocol state. Every model, in any thread or process, drives one of these per
// connection, so the bytes on the wire are identical whichever model serves them.
import type { Protocol } from '../schema/catalog.js';
import { EchoSession } from './echo.js';
import { HttpSession } from './http.js';
import type { Session } from './types.js';

export type { Session };

export function createSession(protocol: Protocol): Session {
  return protocol === 'echo' ? new EchoSession() : new HttpSession();
}
