/**
 * A scriptable OpenFlow 1.3 controller written with the codec, for tests of the switch
 * agent (and of any switch): connect or accept, say HELLO, send messages (or raw bytes, to
 * send what the codec would refuse to encode), and wait for replies by xid or by predicate.
 * Everything received is recorded with its bytes.
 */
import net from 'node:net';
import {
  decode, encode, Framer, OFP_VERSION, OFPMPF_REPLY_MORE,
  type Message, type Msg,
} from '../../controller/of13/index.js';

export interface Received { readonly msg: Message; readonly raw: Uint8Array }

export class RawController {
  readonly received: Received[] = [];
  readonly closed: Promise<void>;
  private readonly framer = new Framer();
  private waiters: { pred: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  private xid = 1000;

  private constructor(readonly socket: net.Socket) {
    this.closed = new Promise((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const raw of this.framer.push(chunk)) {
        const r = { msg: decode(raw), raw: Uint8Array.prototype.slice.call(raw) };
        this.received.push(r);
        this.waiters = this.waiters.filter((w) => (w.pred(r) ? (w.resolve(r), false) : true));
      }
    });
  }

  /** Connect to a listening switch; `hello: false` sends no HELLO (send your own). */
  static connect(port: number, opts: { host?: string; hello?: boolean } = {}): Promise<RawController> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: opts.host ?? '127.0.0.1' });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        const c = new RawController(s);
        if (opts.hello !== false) c.send(RawController.hello());
        resolve(c);
      });
    });
  }

  /** Listen for a switch that dials out (`tcp:127.0.0.1:PORT`). */
  static async listen(opts: { hello?: boolean } = {}): Promise<{ port: number; accept(timeoutMs?: number): Promise<RawController>; close(): Promise<void> }> {
    const queue: net.Socket[] = [];
    const waiting: ((s: net.Socket) => void)[] = [];
    const all = new Set<net.Socket>();
    const server = net.createServer((s) => { all.add(s); const w = waiting.shift(); if (w) w(s); else queue.push(s); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    return {
      port,
      accept: (timeoutMs = 10_000) => new Promise((resolve, reject) => {
        const take = (s: net.Socket) => {
          clearTimeout(t);
          const c = new RawController(s);
          if (opts.hello !== false) c.send(RawController.hello());
          resolve(c);
        };
        const t = setTimeout(() => { const i = waiting.indexOf(take); if (i >= 0) waiting.splice(i, 1); reject(new Error(`no switch connected within ${timeoutMs} ms`)); }, timeoutMs);
        const s = queue.shift();
        if (s) take(s); else waiting.push(take);
      }),
      close: () => new Promise<void>((r) => { for (const s of all) s.destroy(); server.close(() => r()); }),
    };
  }

  static hello(version = OFP_VERSION, bitmap: number | null = 1 << OFP_VERSION): Msg<'HELLO'> {
    return { type: 'HELLO', version, xid: 1, elements: bitmap === null ? [] : [{ type: 'VERSIONBITMAP', bitmaps: [bitmap] }] };
  }

  nextXid(): number { return ++this.xid; }

  send(m: Message): void { this.socket.write(encode(m)); }
  sendRaw(b: Uint8Array): void { this.socket.write(b); }

  /**
   * The first message (received already, or to come) that satisfies pred; rejected after
   * timeoutMs, or as soon as the connection closes (nothing more can come).
   */
  waitFor(pred: (m: Message, raw: Uint8Array) => boolean, timeoutMs = 5000, from = 0): Promise<Received> {
    const have = this.received.slice(from).find((r) => pred(r.msg, r.raw));
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      let done = false;
      const give = (why: string) => {
        if (done) return;
        done = true;
        clearTimeout(t);
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${why}; received: ${this.received.map((r) => r.msg.type).join(',')}`));
      };
      const w = { pred: (r: Received) => pred(r.msg, r.raw), resolve: (r: Received) => { done = true; clearTimeout(t); resolve(r); } };
      const t = setTimeout(() => give(`timed out after ${timeoutMs} ms`), timeoutMs);
      this.waiters.push(w);
      void this.closed.then(() => give('the connection closed'));
    });
  }

  /** Wait for the switch's HELLO. */
  async handshake(): Promise<Msg<'HELLO'>> {
    return (await this.waitFor((m) => m.type === 'HELLO')).msg as Msg<'HELLO'>;
  }

  /** Send a request; resolve with the first message carrying its xid (a reply or an ERROR). */
  async request(m: Message, timeoutMs = 5000): Promise<Message> {
    const from = this.received.length;
    this.send(m);
    return (await this.waitFor((r) => r.xid === m.xid && r.type !== 'HELLO', timeoutMs, from)).msg;
  }

  /** Send raw bytes with xid `xid`; resolve with the first message carrying it. */
  async requestRaw(b: Uint8Array, xid: number, timeoutMs = 5000): Promise<Received> {
    const from = this.received.length;
    this.sendRaw(b);
    return this.waitFor((r) => r.xid === xid, timeoutMs, from);
  }

  /** A multipart request: every reply part, REPLY_MORE followed to the last (or the ERROR). */
  async multipart(m: Msg<'MULTIPART_REQUEST'>, timeoutMs = 10_000): Promise<Received[]> {
    const from = this.received.length;
    this.send(m);
    await this.waitFor((r) => r.xid === m.xid && (r.type === 'ERROR' || (r.type === 'MULTIPART_REPLY' && !(r.flags & OFPMPF_REPLY_MORE))), timeoutMs, from);
    return this.received.slice(from).filter((r) => r.msg.xid === m.xid);
  }

  async barrier(timeoutMs = 5000): Promise<void> {
    const r = await this.request({ type: 'BARRIER_REQUEST', xid: this.nextXid() }, timeoutMs);
    if (r.type !== 'BARRIER_REPLY') throw new Error(`barrier answered with ${r.type}`);
  }

  close(): void { this.socket.destroy(); }
}
