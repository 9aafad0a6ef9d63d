/**
 * TCP stream framer: chunks in, whole OpenFlow messages out, whatever the split.
 *
 * OpenFlow runs over a byte stream (§6.3.1); a message is delimited only by the length in
 * its header. The framer keeps at most one partial message, copies only when a message spans
 * chunks, and yields complete messages as byte views (decode them with `decode`). A header
 * length below 8 cannot be resynchronised: the framer reports OFPBRC_BAD_LEN and stops, the
 * channel then sends the error and closes (§7.4.4, as Open vSwitch does).
 */
import { OfpError } from './errors.js';
import { OFPET, OFPBRC, OFP_HEADER_LEN } from './spec/enums.js';

export interface FramerOptions {
  /** Largest message accepted (the header allows 65535). */
  readonly maxLength?: number;
}

export class Framer {
  private pending: Uint8Array | null = null;
  private pendingLen = 0;
  private failed: OfpError | null = null;
  private readonly maxLength: number;

  constructor(opts: FramerOptions = {}) {
    this.maxLength = opts.maxLength ?? 0xffff;
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number { return this.pendingLen; }

  /** The error that ended the stream, once one has. */
  get failure(): OfpError | null { return this.failed; }

  /**
   * Feed one chunk; returns the messages it completes (each a view of exactly one message).
   * When the stream turns unrecoverable, the messages before the bad header are still
   * returned, `failure` is set, and this and every later push throws once nothing is left
   * to return.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    const { buf, end } = this.scan(chunk);
    for (let p = 0; p < end; p += (buf[p + 2] << 8) | buf[p + 3]) out.push(buf.subarray(p, p + ((buf[p + 2] << 8) | buf[p + 3])));
    return out;
  }

  /**
   * `push` for a channel's receive path: each complete message goes to `onMessage` as
   * (bytes, offset, length) — `decode(bytes, offset)` reads it there — without a view object
   * per message. Same errors and `failure` as `push`. The framer's own state is settled
   * before the first call, so `onMessage` may push again or throw.
   */
  each(chunk: Uint8Array, onMessage: (bytes: Uint8Array, offset: number, length: number) => void): void {
    const { buf, end } = this.scan(chunk);
    for (let p = 0; p < end;) {
      const len = (buf[p + 2] << 8) | buf[p + 3];
      onMessage(buf, p, len);
      p += len;
    }
  }

  /**
   * Frame `chunk` after what is pending: returns the bytes and the end of the last complete
   * message in them (messages lie back to back from 0), keeping the tail for next time.
   */
  private scan(chunk: Uint8Array): { buf: Uint8Array; end: number } {
    if (this.failed) throw this.failed;
    let buf = chunk;
    if (this.pending) {
      // Complete the header first, then the message; copy only what is needed.
      buf = this.concat(chunk);
    }
    let p = 0;
    while (buf.length - p >= OFP_HEADER_LEN) {
      const len = (buf[p + 2] << 8) | buf[p + 3];
      if (len < OFP_HEADER_LEN || len > this.maxLength) {
        this.failed = new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `message length ${len} is outside 8..${this.maxLength}`, p, 'header.length');
        this.pending = null; this.pendingLen = 0;
        if (p === 0) throw this.failed;
        return { buf, end: p };
      }
      if (buf.length - p < len) break;
      p += len;
    }
    const left = buf.length - p;
    if (left === 0) { this.pending = null; this.pendingLen = 0; } else {
      // Keep the tail in our own buffer sized for the whole message when the header is known.
      const need = left >= 4 ? Math.max((buf[p + 2] << 8) | buf[p + 3], left) : OFP_HEADER_LEN;
      const keep = new Uint8Array(Math.max(need, left));
      keep.set(buf.subarray(p));
      this.pending = keep; this.pendingLen = left;
    }
    return { buf, end: p };
  }

  private concat(chunk: Uint8Array): Uint8Array {
    const pend = this.pending!;
    const total = this.pendingLen + chunk.length;
    if (pend.length >= total) {
      pend.set(chunk, this.pendingLen);
      return pend.subarray(0, total);
    }
    const b = new Uint8Array(total);
    b.set(pend.subarray(0, this.pendingLen));
    b.set(chunk, this.pendingLen);
    return b;
  }
}
