// Typed errno values: models branch on these instead of on strings.
import koffi from 'koffi';

export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const EPIPE = 32;
export const ECONNABORTED = 103;
export const ECONNRESET = 104;
export const ETIMEDOUT = 110;
export const ECONNREFUSED = 111;
export const EINPROGRESS = 115;

const names = new Map<number, string>();
for (const [name, value] of Object.entries(koffi.os.errno as Record<string, number>)) {
  // Several names share a value (EWOULDBLOCK = EAGAIN); keep the first, which is the usual one.
  if (!names.has(value)) names.set(value, name);
}
names.set(EAGAIN, 'EAGAIN');

/** `ECONNRESET` for 104, `E123` for a number this table does not know. */
export function errnoName(code: number): string {
  return names.get(code) ?? `E${code}`;
}

/** Thrown only on set-up paths (listen, connect); hot paths return -errno instead. */
export class SysError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(call: string, errno: number) {
    super(`${call}: ${errnoName(errno)}`);
    this.errno = errno;
    this.code = errnoName(errno);
  }
}
