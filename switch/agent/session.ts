/**
 * One controller connection, switch side (OpenFlow 1.3.5 §6.3): HELLO and version
 * negotiation, framing, decoding, ordered processing with barriers, echo keep-alive,
 * coalesced writes with back-pressure, and the per-connection state of §6.3.6–6.3.7 (role,
 * asynchronous configuration) and of the bundle extension.
 *
 * Ordering. Messages are processed one at a time in arrival order. Processing is
 * synchronous except where the switch must wait (BARRIER_REQUEST waits for the datapath's
 * commit, a bundle commit likewise): then later messages wait too, so that a BARRIER_REPLY
 * is sent only after every earlier message was processed and its reply or error sent, and
 * no later message is processed before it (§6.3.2 … "Message Ordering").
 *
 * Errors. A message that does not decode is answered with the OpenFlow error the codec names,
 * data = its first 64 bytes (§7.4.4); an ERROR is never answered with an ERROR. A stream that
 * cannot be framed (length below 8) is answered with OFPBRC_BAD_LEN and closed. A peer
 * without OpenFlow 1.3 gets OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE and is closed.
 */
import type { Socket } from 'node:net';
import {
  decode, encode, Framer, OfpError, format,
  OFP_VERSION, OFPET, OFPHFC, OFPBRC, OFPT, OFPCR_ROLE, OFPR,
  type Message, type Msg,
} from '../../controller/of13/index.js';
import type { Logger } from '../../controller/log.js';
import type { Bundle } from './bundle.js';

export interface SessionHost {
  readonly log: Logger;
  /** Handle one decoded message; a returned promise holds back later messages until it settles. */
  handle(s: Session, msg: Message, raw: Uint8Array): void | Promise<void>;
  /** Optionally handle a message from its bytes alone, before decoding (true: handled). */
  handleRaw?(s: Session, raw: Uint8Array): boolean;
  /** Optionally: the session has processed everything it received so far. */
  drained?(s: Session): void;
  /** The session has completed HELLO (async messages may now be sent to it). */
  attached(s: Session): void;
  detached(s: Session): void;
}

export interface SessionOptions {
  /** ECHO_REQUEST after this long without traffic (ms, default 5000) */
  readonly echoIntervalMs?: number;
  /** close after this long without traffic (ms, default 15000) */
  readonly deadAfterMs?: number;
  /** bytes the socket may queue before async messages (packet-ins) are dropped (default 4 MiB) */
  readonly asyncQueueLimit?: number;
  /** stop reading from the controller while this many bytes of replies wait (default 16 MiB) */
  readonly outputPauseLimit?: number;
}

/** ofp_async_config masks, [master or equal, slave] (§7.3.10). */
export interface AsyncConfig {
  packet_in_mask: [number, number];
  port_status_mask: [number, number];
  flow_removed_mask: [number, number];
}

/**
 * Defaults of §6.1.1 / §7.3.10: master and equal get packet-ins (no match, action; not
 * invalid TTL), every port status and every flow removed; a slave gets port status only.
 */
export function defaultAsyncConfig(): AsyncConfig {
  const all = (n: number) => (1 << n) - 1;
  return {
    packet_in_mask: [(1 << OFPR.NO_MATCH) | (1 << OFPR.ACTION), 0],
    port_status_mask: [all(3), all(3)],
    flow_removed_mask: [all(4), 0],
  };
}

const OUT_CHUNK = 128 * 1024;
const MAX_QUEUED_INPUT = 4096;

export class Session {
  readonly peer: string;
  /** hello: waiting for the peer's HELLO; ready: OpenFlow 1.3 agreed; closed */
  state: 'hello' | 'ready' | 'closed' = 'hello';
  role: number = OFPCR_ROLE.EQUAL;
  async: AsyncConfig = defaultAsyncConfig();
  /** open bundles of the ONF bundle extension, by bundle_id */
  readonly bundles = new Map<number, Bundle>();
  /** where the bytes of bundled messages are kept (bundle.ts keepBytes) */
  bundleSlab: { buf: Uint8Array; used: number } | null = null;
  /** TABLE_FEATURES request parts under OFPMPF_REQ_MORE, by xid, and their bytes */
  readonly pendingRequests = new Map<number, { parts: Msg<'MULTIPART_REQUEST'>[]; bytes: number }>();
  /** bytes held in pendingRequests, all chains together (bounded: agent.ts MAX_PENDING_REQUEST_BYTES) */
  pendingRequestBytes = 0;
  /** async messages not sent because the controller was not reading */
  droppedAsync = 0;
  closeReason = '';

  private readonly framer = new Framer();
  /** messages received and not yet processed: input[head …] */
  private input: Uint8Array[] = [];
  private head = 0;
  private pumping = false;
  private paused = false;
  private out: Buffer | null = null;
  private outLen = 0;
  private flushScheduled = false;
  private lastRx = Date.now();
  private readonly timer: NodeJS.Timeout;
  private xid = 0;
  private readonly echoIntervalMs: number;
  private readonly deadAfterMs: number;
  private readonly asyncQueueLimit: number;
  private readonly outputPauseLimit: number;
  private readonly closedWaiters: (() => void)[] = [];

  constructor(private readonly host: SessionHost, private readonly socket: Socket, readonly origin: string, opts: SessionOptions = {}) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.echoIntervalMs = opts.echoIntervalMs ?? 5000;
    this.deadAfterMs = opts.deadAfterMs ?? 15000;
    this.asyncQueueLimit = opts.asyncQueueLimit ?? 4 * 1024 * 1024;
    this.outputPauseLimit = opts.outputPauseLimit ?? 16 * 1024 * 1024;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.close(`socket error: ${e.message}`));
    socket.on('close', () => this.close('peer closed the connection'));
    socket.on('drain', () => this.maybeResume());
    this.timer = setInterval(() => this.keepAlive(), Math.max(20, Math.min(this.echoIntervalMs, this.deadAfterMs) / 2));
    this.timer.unref();
    // §6.3.1: each side sends HELLO at once, with the versions it supports.
    this.send({ type: 'HELLO', version: OFP_VERSION, xid: this.nextXid(), elements: [{ type: 'VERSIONBITMAP', bitmaps: [1 << OFP_VERSION] }] });
  }

  get closed(): boolean { return this.state === 'closed'; }
  get isSlave(): boolean { return this.role === OFPCR_ROLE.SLAVE; }
  /** Bytes waiting to be written. */
  get queuedBytes(): number { return this.outLen + this.socket.writableLength; }
  /** Too far behind for asynchronous messages. */
  get congested(): boolean { return this.queuedBytes > this.asyncQueueLimit; }

  nextXid(): number {
    this.xid = (this.xid + 1) >>> 0 || 1;
    return this.xid;
  }

  /** Resolves when the session has closed. */
  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => this.closedWaiters.push(r));
  }

  // ------------------------------------------------------------------ async message filters (§6.3.7)

  private maskIndex(): 0 | 1 { return this.role === OFPCR_ROLE.SLAVE ? 1 : 0; }
  wantsPacketIn(reason: number): boolean { return this.state === 'ready' && ((this.async.packet_in_mask[this.maskIndex()] >>> reason) & 1) === 1; }
  wantsPortStatus(reason: number): boolean { return this.state === 'ready' && ((this.async.port_status_mask[this.maskIndex()] >>> reason) & 1) === 1; }
  wantsFlowRemoved(reason: number): boolean { return this.state === 'ready' && ((this.async.flow_removed_mask[this.maskIndex()] >>> reason) & 1) === 1; }

  // ------------------------------------------------------------------ output

  private room(n: number): void {
    if (this.out && this.out.length - this.outLen >= n) return;
    this.flush();
    this.out = Buffer.allocUnsafe(Math.max(OUT_CHUNK, n));
    this.outLen = 0;
  }
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Queue a message (dropped silently once closed). */
  send(msg: Message): void {
    if (this.closed) return;
    this.room(0x10000);
    this.outLen += encode(msg, this.out!, this.outLen).length;
    this.scheduleFlush();
  }

  /** Queue an encoded message, its xid replaced by `xid` when given. */
  sendBytes(wire: Uint8Array, xid?: number): void {
    if (this.closed) return;
    this.room(wire.length);
    const at = this.outLen;
    this.out!.set(wire, at);
    if (xid !== undefined) this.out!.writeUInt32BE(xid >>> 0, at + 4);
    this.outLen += wire.length;
    this.scheduleFlush();
  }

  /** An asynchronous message (PACKET_IN, FLOW_REMOVED, PORT_STATUS): dropped when congested. */
  sendAsync(wire: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.congested) { this.droppedAsync++; return false; }
    this.sendBytes(wire);
    return true;
  }

  /** The error for a message (§7.4.4): its xid, data = its first 64 bytes. */
  sendError(errType: number, code: number, offending: Uint8Array, xid = xidOf(offending)): void {
    this.send({ type: 'ERROR', xid, err_type: errType, code, data: Uint8Array.prototype.slice.call(offending, 0, 64) });
  }
  /** An experimenter error (ONF bundle errors in OpenFlow 1.3). */
  sendExperimenterError(experimenter: number, expType: number, offending: Uint8Array, xid = xidOf(offending)): void {
    this.send({ type: 'ERROR', xid, err_type: 0xffff, exp_type: expType, experimenter, data: Uint8Array.prototype.slice.call(offending, 0, 64) });
  }

  flush(): void {
    this.flushScheduled = false;
    if (!this.out || this.outLen === 0 || this.socket.destroyed) return;
    const chunk = this.out.subarray(0, this.outLen);
    this.out = this.out.length - this.outLen >= 0x10000 ? this.out.subarray(this.outLen) : null;
    this.outLen = 0;
    this.socket.write(chunk);
    if (this.socket.writableLength > this.outputPauseLimit && !this.paused) { this.paused = true; this.socket.pause(); }
  }

  // ------------------------------------------------------------------ input

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    if (this.unframeableAfter) return;
    let frames: Uint8Array[];
    try {
      frames = this.framer.push(chunk);
    } catch (e) {
      if (!(e instanceof OfpError)) throw e;
      this.unframeable(e, chunk);
      return;
    }
    for (const f of frames) this.input.push(f);
    if (this.framer.failure) {
      // the whole messages before the bad header are processed first (see pump)
      this.unframeableAfter = { e: this.framer.failure, chunk };
      this.socket.pause();
    }
    if (this.input.length - this.head > MAX_QUEUED_INPUT && !this.paused) { this.paused = true; this.socket.pause(); }
    void this.pump();
  }
  private unframeableAfter: { e: OfpError; chunk: Uint8Array } | null = null;

  private unframeable(e: OfpError, chunk: Uint8Array): void {
    this.host.log.warn({ peer: this.peer, err: e.message }, 'unframeable stream from controller');
    this.sendError(e.errType, e.errCode, chunk.subarray(Math.max(0, e.offset)));
    this.close(`unframeable stream: ${e.message}`);
  }

  private maybeResume(): void {
    if (!this.paused || this.closed || this.unframeableAfter) return;
    if (this.input.length - this.head <= MAX_QUEUED_INPUT / 2 && this.socket.writableLength <= this.outputPauseLimit / 2) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.head < this.input.length && !this.closed) {
        const raw = this.input[this.head++];
        if (this.head === this.input.length) { this.input = []; this.head = 0; }
        const pending = this.process(raw);
        if (pending) await pending;
        if (this.paused) this.maybeResume();
      }
      this.host.drained?.(this);
      if (this.unframeableAfter && !this.closed) this.unframeable(this.unframeableAfter.e, this.unframeableAfter.chunk);
    } finally {
      this.pumping = false;
    }
  }

  private process(raw: Uint8Array): Promise<void> | undefined {
    if (this.state === 'ready' && this.host.handleRaw) {
      try {
        if (this.host.handleRaw(this, raw)) return undefined;
      } catch (e) {
        this.failed(e, raw);
        return undefined;
      }
    }
    let msg: Message;
    try {
      msg = decode(raw);
    } catch (e) {
      if (!(e instanceof OfpError)) throw e;
      this.host.log.warn({ peer: this.peer, err: e.message, type: raw[1] }, 'malformed message from controller');
      if (this.state === 'hello') { this.helloFailed(raw, `malformed first message: ${e.message}`, e.errType === OFPET.HELLO_FAILED ? e.errCode : OFPHFC.INCOMPATIBLE); return undefined; }
      // Never answer an ERROR with an ERROR (§7.4.4).
      if (raw[1] !== OFPT.ERROR) this.sendError(e.errType, e.errCode, raw);
      return undefined;
    }
    if (this.state === 'hello') { this.hello(msg, raw); return undefined; }
    let r: void | Promise<void>;
    try {
      r = this.host.handle(this, msg, raw);
    } catch (e) {
      this.failed(e, raw);
      return undefined;
    }
    return r ? r.catch((e) => this.failed(e, raw)) : undefined;
  }

  private failed(e: unknown, raw: Uint8Array): void {
    if (e instanceof OfpError) {
      this.host.log.debug({ peer: this.peer, err: e.message }, 'request refused');
      this.sendError(e.errType, e.errCode, raw);
      return;
    }
    const x = e as { ofType?: unknown; ofCode?: unknown; message?: string };
    if (typeof x?.ofType === 'number' && typeof x.ofCode === 'number') {
      // a datapath error that names its OpenFlow error (switch/bindings.ts OfswError)
      this.host.log.debug({ peer: this.peer, err: x.message }, 'request refused by the datapath');
      this.sendError(x.ofType, x.ofCode, raw);
      return;
    }
    this.host.log.error({ peer: this.peer, err: (e as Error)?.stack ?? String(e) }, 'internal error handling a message');
    // The nearest the spec has for "the switch failed": OFPBRC_EPERM.
    this.sendError(OFPET.BAD_REQUEST, OFPBRC.EPERM, raw);
  }

  /** §6.3.1 version negotiation on the peer's HELLO. */
  private hello(msg: Message, raw: Uint8Array): void {
    if (msg.type !== 'HELLO') { this.helloFailed(raw, `expected HELLO, received ${msg.type}`); return; }
    const bm = msg.elements.find((e) => e.type === 'VERSIONBITMAP') as { bitmaps: readonly number[] } | undefined;
    const ok = bm ? ((bm.bitmaps[0] ?? 0) >>> OFP_VERSION & 1) === 1 : Math.min(msg.version, OFP_VERSION) === OFP_VERSION;
    if (!ok) {
      this.helloFailed(raw, `this switch speaks OpenFlow 1.3 (version 0x04) only; the peer offered version 0x${msg.version.toString(16)}${bm ? ` (bitmap 0x${(bm.bitmaps[0] ?? 0).toString(16)})` : ''}`);
      return;
    }
    this.state = 'ready';
    this.host.log.info({ peer: this.peer, origin: this.origin }, 'controller connected (OpenFlow 1.3)');
    this.host.attached(this);
  }

  private helloFailed(raw: Uint8Array, why: string, code: number = OFPHFC.INCOMPATIBLE): void {
    this.host.log.warn({ peer: this.peer, why }, 'version negotiation failed');
    this.send({ type: 'ERROR', xid: xidOf(raw), err_type: OFPET.HELLO_FAILED, code, data: new TextEncoder().encode(why) });
    this.close(`version negotiation failed: ${why}`);
  }

  private keepAlive(): void {
    const idle = Date.now() - this.lastRx;
    if (idle >= this.deadAfterMs) { this.close(`no message from the controller for ${idle} ms`); return; }
    if (idle >= this.echoIntervalMs && this.state === 'ready') this.send({ type: 'ECHO_REQUEST', xid: this.nextXid(), data: new Uint8Array(0) });
  }

  close(reason: string): void {
    if (this.closed) return;
    this.state = 'closed';
    this.closeReason = reason;
    clearInterval(this.timer);
    if (this.out && this.outLen && !this.socket.destroyed) this.socket.write(this.out.subarray(0, this.outLen));
    this.out = null; this.outLen = 0;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.input = []; this.head = 0;
    this.bundles.clear();
    this.bundleSlab = null;
    this.pendingRequests.clear(); this.pendingRequestBytes = 0;
    this.host.log.info({ peer: this.peer, origin: this.origin, reason }, 'controller connection closed');
    this.host.detached(this);
    for (const w of this.closedWaiters.splice(0)) w();
  }

  /** One line for logs. */
  describe(msg: Message): string { return format(msg); }
}

export function xidOf(raw: Uint8Array): number {
  return raw.length >= 8 ? ((raw[4] << 24) | (raw[5] << 16) | (raw[6] << 8) | raw[7]) >>> 0 : 0;
}
