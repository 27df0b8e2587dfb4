// Chunked transfer coding (RFC 9112 §7.1), the framing half: chunk-size lines with extensions,
// the CRLF after each chunk's data, the last chunk and the trailer section. Shared by the server's
// request parser (http.ts) and the load generator's response parser (http-response.ts);
// each moves the data bytes itself, so nothing is copied here.

const CR = 0x0d, LF = 0x0a, SEMI = 0x3b, SP = 0x20, HTAB = 0x09, DEL = 0x7f;

const SIZE = 1, EXT = 2, SIZE_LF = 3, DATA = 4, DATA_CR = 5, DATA_LF = 6, TRAILER = 7, TRAILER_LINE = 8, TRAILER_LF = 9, END_LF = 10;

/** What one framing byte did. */
export const CHUNK_OK = 0, CHUNK_DONE = 1, CHUNK_MALFORMED = -1, CHUNK_TOO_LARGE = -2;

export class ChunkedDecoder {
  private state = SIZE;
  /** The chunk size being read, then the data bytes of the chunk still to come. */
  private left = 0;
  /** Data bytes of the body so far. */
  private seen = 0;

  /** @param maxBytes a body whose chunks would add up to more is CHUNK_TOO_LARGE as soon as a size says so. */
  constructor(private readonly maxBytes: number) {}

  /** True while the next bytes are chunk data (move them with consumed()), not framing. */
  get inData(): boolean {
    return this.state === DATA;
  }

  /** How many of `available` bytes are data of the current chunk. */
  dataIn(available: number): number {
    return Math.min(this.left, available);
  }

  consumed(n: number): void {
    this.left -= n;
    this.seen += n;
    if (this.left === 0) this.state = DATA_CR;
  }

  /** One byte of framing: CHUNK_OK, CHUNK_DONE after the body's last byte, or an error. */
  byte(b: number): number {
    switch (this.state) {
      case SIZE: {
        const h = b >= 0x30 && b <= 0x39 ? b - 0x30 : (b | 0x20) >= 0x61 && (b | 0x20) <= 0x66 ? (b | 0x20) - 0x61 + 10 : -1;
        if (h >= 0) {
          this.left = this.left * 16 + h;
          return this.seen + this.left > this.maxBytes ? CHUNK_TOO_LARGE : CHUNK_OK;
        }
        if (b === SEMI || b === SP || b === HTAB) this.state = EXT;
        else if (b === CR) this.state = SIZE_LF;
        else return CHUNK_MALFORMED;
        return CHUNK_OK;
      }
      case EXT:
        if (b === CR) this.state = SIZE_LF;
        else if ((b < SP && b !== HTAB) || b === DEL) return CHUNK_MALFORMED;
        return CHUNK_OK;
      case SIZE_LF:
        if (b !== LF) return CHUNK_MALFORMED;
        this.state = this.left === 0 ? TRAILER : DATA;
        return CHUNK_OK;
      case DATA_CR:
        if (b !== CR) return CHUNK_MALFORMED;
        this.state = DATA_LF;
        return CHUNK_OK;
      case DATA_LF:
        if (b !== LF) return CHUNK_MALFORMED;
        this.state = SIZE;
        return CHUNK_OK;
      case TRAILER:
        this.state = b === CR ? END_LF : TRAILER_LINE;
        return CHUNK_OK;
      case TRAILER_LINE:
        if (b === CR) this.state = TRAILER_LF;
        return CHUNK_OK;
      case TRAILER_LF:
        if (b !== LF) return CHUNK_MALFORMED;
        this.state = TRAILER;
        return CHUNK_OK;
      case END_LF:
        return b === LF ? CHUNK_DONE : CHUNK_MALFORMED;
      default:
        return CHUNK_MALFORMED;
    }
  }
}
