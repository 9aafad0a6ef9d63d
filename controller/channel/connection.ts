/**
 * One OpenFlow channel (§6.3): framing, decoding, sending with back-pressure, xid-correlated
 * requests, multipart reassembly, barriers, echo keep-alive and dead-peer detection.
 *
 * Thread of events. Bytes from the socket go through the Framer; each message is decoded;
 * a reply whose xid belongs to a pending request settles that request (an ERROR with that
 * xid rejects it with `OfpRemoteError`); ECHO_REQUEST is answered here; everything else goes
 * to the channel's receiver (see `setReceiver`) and is published on `messages$`. A message that does not decode is answered with the OpenFlow
 * error the codec names (data: its first 64 bytes, §7.4.4) and logged; only an unframeable
 * stream (a header length below 8) closes the channel.
 *
 * Writes are coalesced: messages are encoded into one output buffer and written once per
 * event-loop turn. When the socket's queue passes `maxQueuedBytes`, `send` throws
 * `BackpressureError` instead of buffering without bound; `whenWritable()` resolves when it
 * has drained.
 */
import type { Socket } from 'node:net';
import { Subject } from 'rxjs';
import {
  decode, encodeInto, ENCODE_IN_PLACE_ROOM, Framer, OfpError, errorName, format,
  OFPT, OFPMPF_REPLY_MORE, type Message, type Msg,
} from '../of13/index.js';
import type { Logger } from '../log.js';

export class BackpressureError extends Error {
  override readonly name = 'BackpressureError';
}
export class ChannelClosedError extends Error {
  override readonly name = 'ChannelClosedError';
}
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}
/** The peer answered a request with an OpenFlow ERROR. */
export class OfpRemoteError extends Error {
  override readonly name = 'OfpRemoteError';
  constructor(readonly error: Msg<'ERROR'>, readonly request: Message) {
    super(`${request.type} xid=${request.xid} failed: ${'code' in error ? errorName(error.err_type, error.code) : `experimenter error ${error.experimenter}/${error.exp_type}`}`);
  }
}

export interface ConnectionOptions {
  readonly log: Logger;
  /** Send ECHO_REQUEST after this long without traffic from the peer (ms). */
  readonly echoInterval?: number;
  /** Declare the peer dead when nothing arrives for this long (ms). */
  readonly deadAfter?: number;
  readonly requestTimeout?: number;
  /** Bytes the socket may queue before `send` refuses. */
  readonly maxQueuedBytes?: number;
}

interface Pending {
  readonly request: Message;
  readonly resolve: (m: Message) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
  /** multipart reply pieces collected so far */
  parts?: Msg<'MULTIPART_REPLY'>[];
}

const OUT_CHUNK = 64 * 1024;
const REPLY_TYPES: ReadonlySet<string> = new Set([
  'ECHO_REPLY', 'FEATURES_REPLY', 'GET_CONFIG_REPLY', 'MULTIPART_REPLY', 'BARRIER_REPLY',
  'QUEUE_GET_CONFIG_REPLY', 'ROLE_REPLY', 'GET_ASYNC_REPLY', 'ERROR', 'EXPERIMENTER',
]);

export class Connection {
  /** Every message from the peer that is not the reply to a pending request. */
  readonly messages$ = new Subject<Message>();
  /** Emits once, with the reason, when the channel closes. */
  readonly closed$ = new Subject<string>();
  private readonly framer = new Framer();
  private readonly pending = new Map<number, Pending>();
  /** The reassembled parts of a multipart reply, keyed by its last part. */
  private readonly multipartParts = new WeakMap<Message, Msg<'MULTIPART_REPLY'>[]>();
  private xid = 1;
  private out: Uint8Array | null = null;
  private outLen = 0;
  private flushScheduled = false;
  private lastRx = Date.now();
  private echoTimer: NodeJS.Timeout | null = null;
  private closedReason: string | null = null;
  private receiver: ((msg: Message) => void) | null = null;
  readonly echoInterval: number;
  readonly deadAfter: number;
  readonly requestTimeout: number;
  readonly maxQueuedBytes: number;
  readonly log: Logger;
  /** Peer address, for logs. */
  readonly peer: string;

  constructor(private readonly socket: Socket, opts: ConnectionOptions) {
    this.log = opts.log;
    this.echoInterval = opts.echoInterval ?? 5_000;
    this.deadAfter = opts.deadAfter ?? 15_000;
    this.requestTimeout = opts.requestTimeout ?? 10_000;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 16 * 1024 * 1024;
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.close(`socket error: ${e.message}`));
    socket.on('close', () => this.close('peer closed the connection'));
    this.echoTimer = setInterval(() => this.keepAlive(), Math.max(50, Math.min(this.echoInterval, this.deadAfter) / 2));
    this.echoTimer.unref();
  }

  get closed(): boolean { return this.closedReason !== null; }

  /**
   * The channel's owner once it is up (the Datapath) gets every message `messages$`
   * publishes, by a direct call: this is the path of every packet-in, and a Subject's
   * fan-out costs more than the call. `messages$` still publishes to its subscribers (the
   * handshake, tools). One receiver per channel; a later one replaces it.
   */
  setReceiver(receive: ((msg: Message) => void) | null): void { this.receiver = receive; }
  /** Bytes waiting to be written (ours plus the socket's). */
  get queuedBytes(): number { return this.outLen + this.socket.writableLength; }

  nextXid(): number {
    this.xid = (this.xid + 1) >>> 0 || 1;
    return this.xid;
  }

  /** Queue a message. Throws BackpressureError when the peer is not reading. */
  send(msg: Message): void {
    const out = this.reserve();
    // Encoded in place, straight into the output buffer (the reserve leaves room for any message).
    this.outLen += encodeInto(msg, out, this.outLen);
    this.scheduleFlush();
  }

  /**
   * The output buffer, with room for one more message of any size after `outLen`: a full
   * buffer is flushed first. Refuses when the channel is closed or the peer is not reading.
   */
  private reserve(): Uint8Array {
    if (this.closedReason !== null) throw new ChannelClosedError(`channel to ${this.peer} is closed: ${this.closedReason}`);
    if (this.socket.writableLength > this.maxQueuedBytes) {
      throw new BackpressureError(`peer ${this.peer} is not reading: ${this.socket.writableLength} bytes queued`);
    }
    if (!this.out || this.out.length - this.outLen < ENCODE_IN_PLACE_ROOM) {
      if (this.out) this.flush();
      this.out = Buffer.allocUnsafe(OUT_CHUNK * 2);
      this.outLen = 0;
    }
    return this.out;
  }

  /** One socket write per event-loop turn, whatever was queued in it. */
  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushCallback);
    }
  }

  private readonly flushCallback = () => this.flush();

  /**
   * Queue an already-encoded message (e.g. a desired flow's stored FLOW_MOD), with its xid
   * replaced by `xid`. Same back-pressure rule as `send`.
   */
  sendBytes(wire: Uint8Array, xid: number): void {
    if (wire.length < 8 || ((wire[2] << 8) | wire[3]) !== wire.length) throw new Error('sendBytes: not one whole OpenFlow message');
    this.sendWith(wire.length, (b, at) => {
      b.set(wire, at);
      b[at + 4] = xid >>> 24; b[at + 5] = (xid >>> 16) & 255; b[at + 6] = (xid >>> 8) & 255; b[at + 7] = xid & 255;
    });
  }

  /**
   * Queue `length` bytes that `write` puts into the output buffer at `at` (one or more whole
   * messages framed by the caller: wrapping stored flows in bundle messages without copies).
   */
  sendWith(length: number, write: (b: Uint8Array, at: number) => void): void {
    if (length > 0xffff) throw new RangeError(`sendWith: ${length} bytes is more than one message may hold`);
    const out = this.reserve();
    write(out, this.outLen);
    this.outLen += length;
    this.scheduleFlush();
  }

  /** Resolves when the socket's queue is below the limit again. */
  whenWritable(): Promise<void> {
    if (this.socket.writableLength <= this.maxQueuedBytes / 2) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('drain', () => resolve()));
  }

  flush(): void {
    this.flushScheduled = false;
    if (!this.out || this.outLen === 0 || this.closedReason !== null) return;
    const chunk = this.out.subarray(0, this.outLen);
    // The rest of the buffer stays ours for the next messages; the written part is never reused.
    this.out = this.out.length - this.outLen >= ENCODE_IN_PLACE_ROOM ? this.out.subarray(this.outLen) : null;
    this.outLen = 0;
    this.socket.write(chunk);
  }

  /**
   * Send a request and resolve with its reply (the whole reassembled reply for multipart:
   * use `multipart`). An ERROR with the request's xid rejects with OfpRemoteError.
   */
  request<T extends Message = Message>(msg: Message, timeout = this.requestTimeout): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const xid = msg.xid;
      if (this.pending.has(xid)) { reject(new Error(`xid ${xid} already has a pending request`)); return; }
      const timer = setTimeout(() => {
        this.pending.delete(xid);
        reject(new RequestTimeoutError(`${msg.type} xid=${xid} to ${this.peer}: no reply in ${timeout} ms`));
      }, timeout);
      this.pending.set(xid, { request: msg, resolve: resolve as (m: Message) => void, reject, timer });
      try { this.send(msg); } catch (e) {
        clearTimeout(timer); this.pending.delete(xid); reject(e as Error);
      }
    });
  }

  /** A multipart request; resolves with every reply part (REPLY_MORE reassembled, §7.3.5). */
  async multipart(req: Msg<'MULTIPART_REQUEST'>, timeout?: number): Promise<Msg<'MULTIPART_REPLY'>[]> {
    const last = await this.request<Msg<'MULTIPART_REPLY'>>(req, timeout);
    return this.multipartParts.get(last) ?? [last];
  }

  /** BARRIER_REQUEST/REPLY: every earlier message has been processed by the peer. */
  async barrier(timeout?: number): Promise<void> {
    await this.request({ type: 'BARRIER_REQUEST', xid: this.nextXid() }, timeout);
  }

  close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    if (this.echoTimer) clearInterval(this.echoTimer);
    try { this.flushNow(); } catch { /* closing anyway */ }
    this.socket.end();
    // A peer that never reads would keep the socket half-open: destroy after a grace period.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ChannelClosedError(`channel to ${this.peer} closed (${reason}) before the reply to ${p.request.type} xid=${p.request.xid}`));
    }
    this.pending.clear();
    this.log.info({ peer: this.peer, reason }, 'channel closed');
    this.closed$.next(reason);
    this.closed$.complete();
    this.messages$.complete();
  }

  private flushNow(): void {
    if (this.out && this.outLen) {
      this.socket.write(this.out.subarray(0, this.outLen));
      this.out = null; this.outLen = 0;
    }
  }

  private keepAlive(): void {
    const idle = Date.now() - this.lastRx;
    if (idle >= this.deadAfter) { this.close(`no message from the peer for ${idle} ms (echo unanswered)`); return; }
    if (idle >= this.echoInterval) {
      try { this.send({ type: 'ECHO_REQUEST', xid: this.nextXid(), data: new Uint8Array(0) }); } catch { /* back-pressure: the dead-peer timer decides */ }
    }
  }

  /** Send the OpenFlow error a malformed message deserves (§7.4.4: data = its first 64 bytes). */
  sendError(e: OfpError, offending: Uint8Array): void {
    const xid = offending.length >= 8 ? ((offending[4] << 24) | (offending[5] << 16) | (offending[6] << 8) | offending[7]) >>> 0 : 0;
    try {
      this.send({ type: 'ERROR', xid, err_type: e.errType, code: e.errCode, data: Uint8Array.prototype.slice.call(offending, 0, 64) });
    } catch { /* closed or back-pressured: nothing more to do */ }
  }

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    try {
      this.framer.each(chunk, this.onFrame);
    } catch (e) {
      if (!(e instanceof OfpError)) throw e;
      this.unframeable(e, chunk);
      return;
    }
    // Whole messages before an unframeable header were handled above; now close.
    if (this.framer.failure && this.closedReason === null) this.unframeable(this.framer.failure, chunk);
  }

  /** One whole message at `bytes[offset..offset+length]` (decoded in place: no view per message). */
  private readonly onFrame = (bytes: Uint8Array, offset: number, length: number): void => {
    if (this.closedReason !== null) return;
    let msg: Message;
    try {
      msg = decode(bytes, offset);
    } catch (e) {
      if (!(e instanceof OfpError)) throw e;
      this.log.warn({ peer: this.peer, err: e.message, type: bytes[offset + 1] }, 'malformed message from peer');
      // Never answer an ERROR with an ERROR (§7.4.4: avoids loops).
      if (bytes[offset + 1] !== OFPT.ERROR) this.sendError(e, bytes.subarray(offset, offset + length));
      return;
    }
    this.dispatch(msg);
  };

  private unframeable(e: OfpError, chunk: Uint8Array): void {
    this.log.warn({ peer: this.peer, err: e.message }, 'unframeable stream from peer');
    this.sendError(e, chunk.subarray(Math.max(0, e.offset)));
    this.close(`unframeable stream: ${e.message}`);
  }

  private dispatch(msg: Message): void {
    if (msg.type === 'ECHO_REQUEST') {
      try { this.send({ type: 'ECHO_REPLY', xid: msg.xid, data: msg.data }); } catch { /* peer not reading */ }
      return;
    }
    if (REPLY_TYPES.has(msg.type)) {
      const p = this.pending.get(msg.xid);
      if (p) {
        if (msg.type === 'ERROR') {
          this.settle(msg.xid, p);
          p.reject(new OfpRemoteError(msg, p.request));
          return;
        }
        if (msg.type === 'MULTIPART_REPLY') {
          (p.parts ??= []).push(msg);
          if (msg.flags & OFPMPF_REPLY_MORE) return;
          this.settle(msg.xid, p);
          this.multipartParts.set(msg, p.parts);
          p.resolve(msg);
          return;
        }
        this.settle(msg.xid, p);
        p.resolve(msg);
        return;
      }
      if (msg.type === 'ECHO_REPLY') return;
    }
    if (msg.type === 'ERROR') this.log.warn({ peer: this.peer, error: format(msg) }, 'error from peer');
    if (this.receiver !== null) this.receiver(msg);
    if (this.messages$.observed) this.messages$.next(msg);
  }

  private settle(xid: number, p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(xid);
  }
}

