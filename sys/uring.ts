// io_uring from JavaScript, on raw syscalls through koffi (no liburing): io_uring_setup, mmap of
// the submission and completion rings and of the SQE array, reached as typed arrays over
// koffi.view(), and io_uring_enter to submit and wait.
//
// Memory ordering. The kernel and this thread share the ring heads and tails. We read the CQ tail
// (written by the kernel) with Atomics.load, an acquire, before reading the CQEs it covers; we
// publish the SQ tail and the CQ head with Atomics.store, a release, after writing the SQEs or
// reading the CQEs. V8 compiles these to plain moves plus a fence on x86 (already ordered) and to
// ldar/stlr on arm64, so the code is correct on weaker architectures too. Plain typed-array
// accesses are used only for memory nobody else writes at that moment (an SQE before its tail is
// published, a CQE after its tail was read).
import koffi from 'koffi';
import * as L from './libc.js';
import { errnoName } from './errno.js';

const SYS_IO_URING_SETUP = 425;
const SYS_IO_URING_ENTER = 426;
const SYS_IO_URING_REGISTER = 427;

export const OP_ACCEPT = 13, OP_CONNECT = 16, OP_SEND = 26, OP_RECV = 27;
export const IOSQE_IO_LINK = 1 << 2;
export const IOSQE_BUFFER_SELECT = 1 << 5;
/** sqe.ioprio bits: keep the request armed after each completion. */
export const ACCEPT_MULTISHOT = 1 << 0;
export const RECV_MULTISHOT = 1 << 1;
export const CQE_F_BUFFER = 1 << 0;
export const CQE_F_MORE = 1 << 1;

const ENTER_GETEVENTS = 1 << 0;
const ENTER_EXT_ARG = 1 << 3;
const SETUP_CQSIZE = 1 << 3;
const SETUP_SUBMIT_ALL = 1 << 7;
const SETUP_COOP_TASKRUN = 1 << 8;
const SETUP_SINGLE_ISSUER = 1 << 12;
const SETUP_DEFER_TASKRUN = 1 << 13;
const FEAT_SINGLE_MMAP = 1 << 0;
const FEAT_NODROP = 1 << 1;
const FEAT_EXT_ARG = 1 << 8;
const OFF_SQ_RING = 0;
const OFF_SQES = 0x10000000;
const REGISTER_PBUF_RING = 22;

const PROT_READ = 1, PROT_WRITE = 2;
const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_POPULATE = 0x8000;
const SQE_BYTES = 64;
const CQE_BYTES = 16;

/** io_uring is missing or refused: the model's limit, with the kernel's reason. */
export class UringUnavailable extends Error {
  readonly code = 'EURING';
}

/** Why io_uring_setup failed, in words a reader can act on. */
export function refusalReason(errno: number): string {
  const name = errnoName(errno);
  if (name === 'ENOSYS') return 'io_uring_setup: ENOSYS (the kernel has no io_uring, or a seccomp filter hides it)';
  if (name === 'EPERM') return 'io_uring_setup: EPERM (refused: /proc/sys/kernel/io_uring_disabled, or a sandbox)';
  return `io_uring_setup: ${name}`;
}

/** Anonymous memory mapped in this process, with its address, as a Buffer that never moves. */
export interface Mapped {
  ptr: unknown;
  address: number;
  bytes: Buffer;
  length: number;
}

function mapAnonymous(length: number): Mapped {
  const ptr = L.c.mmap(null, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const address = ptr === null ? 0 : Number(koffi.address(ptr));
  if (address === 0 || address === 2 ** 64 - 1) throw new UringUnavailable(`mmap of ${length} bytes: ${errnoName(L.errno())}`);
  return { ptr, address, bytes: Buffer.from(koffi.view(ptr, length)), length };
}

function mapRing(fd: number, length: number, offset: number): { ptr: unknown; ab: ArrayBuffer } {
  const ptr = L.c.mmap(null, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
  const address = ptr === null ? 0 : Number(koffi.address(ptr));
  if (address === 0 || address === 2 ** 64 - 1) throw new UringUnavailable(`mmap of the io_uring rings: ${errnoName(L.errno())}`);
  return { ptr, ab: koffi.view(ptr, length) };
}

/** Writes an address (a JS number below 2^53, as user-space addresses are) as two 32-bit halves. */
function putAddress(u32: Uint32Array, at: number, address: number): void {
  u32[at] = address >>> 0;
  u32[at + 1] = Math.floor(address / 0x1_0000_0000);
}

/** The address of a Buffer's bytes (it must be kept alive until the kernel is done with it). */
export function addressOf(buf: Buffer): number {
  return Number(koffi.address(buf));
}

export class Uring {
  readonly fd: number;
  /** The setup flags the kernel took: DEFER_TASKRUN and SINGLE_ISSUER (6.1+), else COOP_TASKRUN, else none. */
  readonly flags: number;
  private readonly ring: Uint32Array;
  private readonly sqes: Uint32Array;
  private readonly sqeBytes: Uint8Array;
  private readonly cqI32: Int32Array;
  private readonly sqHeadI: number;
  private readonly sqTailI: number;
  private readonly sqMask: number;
  private readonly sqEntries: number;
  private readonly cqHeadI: number;
  private readonly cqTailI: number;
  private readonly cqMask: number;
  private readonly cqesI: number;
  private sqTail = 0;
  /** SQEs written since the last enter. */
  private pending = 0;
  private readonly scratch: Mapped;
  private readonly maps: { ptr: unknown; length: number }[] = [];

  /** Sets up a ring of `entries` SQEs (a power of two) and a CQ four times as long. */
  constructor(entries: number) {
    // Tests stand in for a kernel that refuses io_uring (the real refusals need root-wide settings).
    const refused = process.env.CB_TEST_URING_REFUSE;
    if (refused === 'EPERM' || refused === 'ENOSYS') throw new UringUnavailable(refusalReason(refused === 'EPERM' ? 1 : 38));
    const params = Buffer.alloc(120);
    let fd = -1;
    // The fastest mode first (6.1+: one thread submits, completions run when it enters), then plainer ones.
    const attempts = [SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN | SETUP_SUBMIT_ALL, SETUP_COOP_TASKRUN | SETUP_SUBMIT_ALL, 0];
    let flags = 0;
    for (const f of attempts) {
      params.fill(0);
      params.writeUInt32LE(f | SETUP_CQSIZE, 8);
      params.writeUInt32LE(entries * 4, 4);
      fd = Number(L.c.io_uring_setup(SYS_IO_URING_SETUP, entries, params));
      if (fd >= 0) {
        flags = f;
        break;
      }
      const e = L.errno();
      if (e !== 22) throw new UringUnavailable(refusalReason(e)); // only EINVAL (flags this kernel lacks) tries the next
    }
    if (fd < 0) throw new UringUnavailable(refusalReason(22));
    this.fd = fd;
    this.flags = flags;
    const features = params.readUInt32LE(20);
    const need = FEAT_SINGLE_MMAP | FEAT_NODROP | FEAT_EXT_ARG;
    if ((features & need) !== need) {
      L.c.close(fd);
      throw new UringUnavailable(`io_uring: this kernel lacks single mmap, no-drop or timed waits (features 0x${features.toString(16)}; Linux 5.11 or later needed)`);
    }
    const sqEntries = params.readUInt32LE(0);
    const cqEntries = params.readUInt32LE(4);
    const sq = (k: number): number => params.readUInt32LE(40 + 4 * k); // io_sqring_offsets
    const cq = (k: number): number => params.readUInt32LE(80 + 4 * k); // io_cqring_offsets
    const ringBytes = Math.max(sq(6) + sqEntries * 4, cq(5) + cqEntries * CQE_BYTES);
    const ring = mapRing(fd, ringBytes, OFF_SQ_RING); // one mapping holds both rings (SINGLE_MMAP)
    const sqeMap = mapRing(fd, sqEntries * SQE_BYTES, OFF_SQES);
    this.maps.push({ ptr: ring.ptr, length: ringBytes }, { ptr: sqeMap.ptr, length: sqEntries * SQE_BYTES });
    this.ring = new Uint32Array(ring.ab);
    this.cqI32 = new Int32Array(ring.ab);
    this.sqes = new Uint32Array(sqeMap.ab);
    this.sqeBytes = new Uint8Array(sqeMap.ab);
    this.sqHeadI = sq(0) / 4;
    this.sqTailI = sq(1) / 4;
    this.sqMask = this.ring[sq(2) / 4]!;
    this.sqEntries = sqEntries;
    this.cqHeadI = cq(0) / 4;
    this.cqTailI = cq(1) / 4;
    this.cqMask = this.ring[cq(2) / 4]!;
    this.cqesI = cq(5) / 4;
    // SQE k always sits in slot k of the index array, so the array is written once, here.
    const array = sq(6) / 4;
    for (let k = 0; k < sqEntries; k++) this.ring[array + k] = k;
    this.sqTail = Atomics.load(this.ring, this.sqTailI);
    // Scratch: the timed wait's argument and timespec, with known addresses.
    this.scratch = mapAnonymous(4096);
  }

  /** The next SQE, zeroed, as an index into the u32 view; submits first when the ring is full. */
  private next(): number {
    if (this.sqTail - Atomics.load(this.ring, this.sqHeadI) >= this.sqEntries) this.submit(0, 0);
    const slot = this.sqTail & this.sqMask;
    const at = slot * (SQE_BYTES / 4);
    this.sqes.fill(0, at, at + SQE_BYTES / 4);
    this.sqTail++;
    this.pending++;
    return at;
  }

  /**
   * Writes one SQE. `addr` is an address (0 for none), `userLo`/`userHi` the two halves of
   * user_data, `bufGroup` a provided-buffer group (with IOSQE_BUFFER_SELECT).
   */
  prep(op: number, fd: number, addr: number, len: number, opFlags: number, userLo: number, userHi: number, sqeFlags = 0, ioprio = 0, bufGroup = 0, off = 0): void {
    const at = this.next();
    const b = at * 4;
    this.sqeBytes[b] = op;
    this.sqeBytes[b + 1] = sqeFlags;
    this.sqeBytes[b + 2] = ioprio & 0xff;
    this.sqeBytes[b + 3] = ioprio >>> 8;
    this.sqes[at + 1] = fd;
    if (off !== 0) putAddress(this.sqes, at + 2, off);
    if (addr !== 0) putAddress(this.sqes, at + 4, addr);
    this.sqes[at + 6] = len;
    this.sqes[at + 7] = opFlags;
    this.sqes[at + 8] = userLo;
    this.sqes[at + 9] = userHi;
    this.sqeBytes[b + 40] = bufGroup & 0xff;
    this.sqeBytes[b + 41] = bufGroup >>> 8;
  }

  /**
   * Publishes the SQEs written so far and, with waitMs > 0, waits until at least `minComplete`
   * completions are there or waitMs has passed. Returns the kernel's result (SQEs consumed) or -errno.
   */
  submit(minComplete: number, waitMs: number): number {
    Atomics.store(this.ring, this.sqTailI, this.sqTail); // release: the SQEs before the tail
    const toSubmit = this.pending;
    this.pending = 0;
    if (minComplete === 0) {
      // DEFER_TASKRUN runs completions only inside io_uring_enter with GETEVENTS: ask for them even when not waiting.
      const r = Number(L.c.io_uring_enter(SYS_IO_URING_ENTER, this.fd, toSubmit, 0, ENTER_GETEVENTS, null, 0));
      return r >= 0 ? r : -L.errno();
    }
    const s = this.scratch.bytes;
    // struct io_uring_getevents_arg { u64 sigmask; u32 sigmask_sz; u32 pad; u64 ts; } then the timespec at 32.
    s.writeUInt32LE(0, 0);
    s.writeUInt32LE(0, 4);
    s.writeUInt32LE(8, 8);
    s.writeUInt32LE(0, 12);
    const ts = this.scratch.address + 32;
    s.writeUInt32LE(ts >>> 0, 16);
    s.writeUInt32LE(Math.floor(ts / 0x1_0000_0000), 20);
    s.writeUInt32LE(Math.floor(waitMs / 1000), 32);
    s.writeUInt32LE(0, 36);
    s.writeUInt32LE((waitMs % 1000) * 1_000_000, 40);
    s.writeUInt32LE(0, 44);
    const r = Number(L.c.io_uring_enter(SYS_IO_URING_ENTER, this.fd, toSubmit, minComplete, ENTER_GETEVENTS | ENTER_EXT_ARG, s, 24));
    return r >= 0 ? r : -L.errno();
  }

  /**
   * Calls `each(userLo, userHi, res, flags)` for every completion there is, in order, then hands
   * the slots back to the kernel. Returns how many there were.
   */
  reap(each: (userLo: number, userHi: number, res: number, flags: number) => void): number {
    const tail = Atomics.load(this.ring, this.cqTailI); // acquire: the CQEs before the tail are written
    let head = this.ring[this.cqHeadI]!; // only we write the CQ head
    const n = (tail - head) >>> 0;
    for (; head !== tail; head = (head + 1) >>> 0) {
      const at = this.cqesI + (head & this.cqMask) * (CQE_BYTES / 4);
      each(this.ring[at]!, this.ring[at + 1]!, this.cqI32[at + 2]!, this.ring[at + 3]!);
    }
    Atomics.store(this.ring, this.cqHeadI, tail); // release: those slots may be reused
    return n;
  }

  /**
   * Registers a ring of `count` provided buffers of `size` bytes each as buffer group `group`:
   * the kernel picks a buffer for each multishot recv, and the buffer's id comes back in the CQE.
   */
  provideBuffers(group: number, count: number, size: number): BufferRing {
    const ring = mapAnonymous(count * 16);
    const slab = mapAnonymous(count * size);
    const reg = Buffer.alloc(40);
    reg.writeUInt32LE(ring.address >>> 0, 0);
    reg.writeUInt32LE(Math.floor(ring.address / 0x1_0000_0000), 4);
    reg.writeUInt32LE(count, 8);
    reg.writeUInt16LE(group, 12);
    const r = Number(L.c.io_uring_register(SYS_IO_URING_REGISTER, this.fd, REGISTER_PBUF_RING, reg, 1));
    if (r < 0) throw new UringUnavailable(`io_uring_register(PBUF_RING): ${errnoName(L.errno())} (Linux 5.19 or later needed)`);
    this.maps.push(ring, slab);
    const buffers = new BufferRing(ring, slab, count, size);
    for (let id = 0; id < count; id++) buffers.give(id);
    buffers.publish();
    return buffers;
  }

  close(): void {
    L.c.close(this.fd);
    for (const m of this.maps) L.c.munmap(m.ptr, m.length);
    L.c.munmap(this.scratch.ptr, this.scratch.length);
  }
}

/** A provided-buffer ring: buffers handed to the kernel, taken by recvs, given back when read. */
export class BufferRing {
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  private tail = 0;
  private readonly mask: number;
  /** One Buffer per id over the slab, made once. */
  private readonly views: Buffer[];

  constructor(
    ring: Mapped,
    private readonly slab: Mapped,
    count: number,
    readonly size: number,
  ) {
    this.u32 = new Uint32Array(ring.bytes.buffer, ring.bytes.byteOffset, ring.length / 4);
    this.u16 = new Uint16Array(ring.bytes.buffer, ring.bytes.byteOffset, ring.length / 2);
    this.mask = count - 1;
    this.views = Array.from({ length: count }, (_, id) => slab.bytes.subarray(id * size, (id + 1) * size));
  }

  /** The bytes of buffer `id`. */
  view(id: number): Buffer {
    return this.views[id]!;
  }

  address(id: number): number {
    return this.slab.address + id * this.size;
  }

  /** Queues buffer `id` for the kernel; it sees it at the next publish(). */
  give(id: number): void {
    const at = (this.tail & this.mask) * 4; // struct io_uring_buf { u64 addr; u32 len; u16 bid; u16 resv; }, 16 bytes
    putAddress(this.u32, at, this.address(id));
    this.u32[at + 2] = this.size;
    this.u16[at * 2 + 6] = id;
    this.tail = (this.tail + 1) & 0xffff;
  }

  /** Makes every given buffer visible to the kernel (the tail shares entry 0's last 2 bytes). */
  publish(): void {
    Atomics.store(this.u16, 7, this.tail); // release: the entries before the tail are written
  }
}
