/**
 * One emulated OpenFlow 1.3 switch of cbench: a TCP connection to the controller that
 * answers the controller's handshake and management requests like a plain switch would,
 * and sends PACKET_INs (table miss) as fast as the window, the socket and the controller
 * allow.
 *
 * Life of a switch: connect → HELLO both ways → FEATURES_REQUEST answered → "settled"
 * (PORT_DESC answered, or SETTLE_MS after FEATURES_REPLY when the controller does not ask)
 * → priming: one packet-in at a time until the controller answers one (a controller may
 * drop packet-ins while it finishes its own handshake) → running: up to `window`
 * packet-ins outstanding. Latency mode is running with a window of 1.
 *
 * Answers (FLOW_MOD, PACKET_OUT) are recognised from raw bytes (see traffic.ts); every
 * other message is decoded with the codec and answered.
 */
import net from 'node:net';
import {
  decode, encode, format, Framer, OfpError, errorName, OFP_NO_BUFFER, OFP_VERSION, OFPT, OFPET, OFPBRC,
  OFPCR_ROLE, OFPPF, OFPPS, OFPC, OFPC_FRAG, type Message, type Msg, type Port,
} from '../../../controller/of13/index.js';
import { InFlight } from './inflight.js';
import { LatencyHistogram } from './histogram.js';
import { Traffic, NONE } from './traffic.js';

/** Wait this long after FEATURES_REPLY for a PORT_DESC request before starting traffic. */
const SETTLE_MS = 150;
/** While priming, resend a packet-in that got no answer after this long. */
const PRIME_RETRY_MS = 200;
const MAX_CONTROL_ERRORS = 5;

/** What every switch of one run shares: the clock, the measurement interval, the totals. */
export interface RunState {
  /** ns since the run started */
  readonly clock: () => number;
  /** start of the measurement in clock ns; Infinity before */
  measureFrom: number;
  /** end of the measurement in clock ns; Infinity while it lasts */
  measureTo: number;
  readonly latency: LatencyHistogram;
  readonly traffic: Traffic;
}

export interface SwitchOptions {
  readonly index: number;
  readonly datapathId: bigint;
  readonly host: string;
  readonly port: number;
  /** packet-ins outstanding once running (1 in latency mode) */
  readonly window: number;
  /** give buffer ids to packet-ins instead of OFP_NO_BUFFER */
  readonly buffered: boolean;
  /** an outstanding packet-in older than this is counted lost */
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
}

export type SwitchPhase = 'connecting' | 'handshake' | 'priming' | 'running' | 'stopped' | 'failed';

/** Counters of one switch; the measured ones count only inside the measurement interval. */
export interface SwitchCounters {
  responses: number;
  flowMods: number;
  packetOuts: number;
  packetInsSent: number;
  answered: number;
  lost: number;
}

export interface Handshake {
  hello: boolean;
  features: boolean;
  portDesc: boolean;
  setConfig: boolean;
  barriers: number;
  echoes: number;
  roles: number;
  multiparts: number;
}

export class FakeSwitch {
  phase: SwitchPhase = 'connecting';
  /** the TCP connection was established */
  connected = false;
  /** the controller answered a packet-in (the switch reached 'running') */
  primed = false;
  readonly measured: SwitchCounters = { responses: 0, flowMods: 0, packetOuts: 0, packetInsSent: 0, answered: 0, lost: 0 };
  /** FLOW_MODs and PACKET_OUTs over the whole run, warm-up included */
  totalResponses = 0;
  readonly handshake: Handshake = {
    hello: false, features: false, portDesc: false, setConfig: false, barriers: 0, echoes: 0, roles: 0, multiparts: 0,
  };
  /** why this switch failed or what went wrong on it (controller ERRORs, protocol errors) */
  readonly problems: string[] = [];

  private socket: net.Socket | null = null;
  private readonly framer = new Framer();
  private readonly inflight: InFlight;
  private blocked = false;
  private droppedSeen = 0;
  private settleTimer: NodeJS.Timeout | null = null;
  private configFlags: number = OFPC_FRAG.NORMAL;
  private missSendLen = 128;
  private role: number = OFPCR_ROLE.EQUAL;
  private generationId = 0n;
  private xid = 1;
  private readonly readyWaiters: (() => void)[] = [];
  private readonly closeWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly opts: SwitchOptions, private readonly run: RunState) {
    this.inflight = new InFlight(Math.max(64, opts.window * 4));
  }

  get name(): string { return `switch ${this.opts.index + 1} (dpid 0x${this.opts.datapathId.toString(16)})`; }

  /** Connect; resolves once connected, rejects with a clear error if that fails. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: this.opts.host, port: this.opts.port });
      this.socket = s;
      s.setNoDelay(true);
      const timer = setTimeout(() => {
        s.destroy(new Error(`no connection within ${this.opts.connectTimeoutMs} ms`));
      }, this.opts.connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        this.connected = true;
        this.phase = 'handshake';
        this.sendControl({ type: 'HELLO', version: OFP_VERSION, xid: this.nextXid(), elements: [{ type: 'VERSIONBITMAP', bitmaps: [1 << OFP_VERSION] }] });
        resolve();
      });
      s.on('data', (chunk: Buffer) => this.onData(chunk));
      s.on('drain', () => { this.blocked = false; this.fill(); });
      s.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const what = this.phase === 'connecting'
          ? `cannot connect to ${this.opts.host}:${this.opts.port}: ${e.code ?? e.message}`
          : `connection error: ${e.code ?? e.message}`;
        this.fail(what);
        reject(new Error(`${this.name}: ${what}`));
      });
      s.on('close', () => {
        clearTimeout(timer);
        if (this.phase !== 'stopped' && this.phase !== 'failed') {
          this.fail(`the controller closed the connection (${this.phase === 'running' ? 'while running' : `during ${this.phase}`}, after ${(this.run.clock() / 1e9).toFixed(2)} s)`);
        }
        this.closed = true;
        for (const w of this.closeWaiters.splice(0)) w();
      });
    });
  }

  /** Resolves when the switch is running (the controller answered a packet-in) or has failed. */
  whenReady(): Promise<void> {
    if (this.phase === 'running' || this.phase === 'failed' || this.phase === 'stopped') return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  /** Stop sending, close the connection; resolves once closed (forcibly after graceMs). */
  stop(graceMs = 500): Promise<void> {
    if (this.phase !== 'failed') this.phase = 'stopped';
    this.wakeReady();
    if (this.settleTimer) clearTimeout(this.settleTimer);
    const s = this.socket;
    if (!s || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => s.destroy(), graceMs);
      this.closeWaiters.push(() => { clearTimeout(t); resolve(); });
      s.end();
    });
  }

  /** Called periodically: give up packet-ins that waited too long, then refill the window. */
  tick(): void {
    if (this.phase !== 'priming' && this.phase !== 'running') return;
    const now = this.run.clock();
    const wait = this.phase === 'priming' ? PRIME_RETRY_MS : this.opts.timeoutMs;
    this.inflight.expire(now - wait * 1e6);
    this.countLost(now);
    this.fill();
  }

  // ------------------------------------------------------------------ receiving

  private onData(chunk: Buffer): void {
    let msgs: Uint8Array[];
    try {
      msgs = this.framer.push(chunk);
    } catch (e) {
      this.protocolError(e, null);
      return;
    }
    const now = this.run.clock();
    for (const m of msgs) {
      const type = m[1];
      if ((type === OFPT.FLOW_MOD || type === OFPT.PACKET_OUT) && m[0] === OFP_VERSION) this.onAnswer(m, type, now);
      else this.onControl(m);
      if (this.phase === 'failed') return;
    }
    this.fill();
  }

  /** A FLOW_MOD or PACKET_OUT: count it, and find the packet-in it answers. */
  private onAnswer(m: Uint8Array, type: number, now: number): void {
    this.totalResponses++;
    const measuring = now >= this.run.measureFrom && now <= this.run.measureTo;
    if (measuring) {
      this.measured.responses++;
      if (type === OFPT.FLOW_MOD) this.measured.flowMods++; else this.measured.packetOuts++;
    }
    const bufferId = Traffic.bufferId(m, type);
    let sentAt: number;
    if (bufferId !== OFP_NO_BUFFER) {
      sentAt = this.inflight.ackLowBits(bufferId, 24);
    } else if (type === OFPT.PACKET_OUT) {
      const tag = Traffic.packetOutTag(m);
      sentAt = tag !== NONE ? this.inflight.ackLowBits(tag, 32) : this.inflight.ackOldest();
    } else if (Traffic.isCatchAllOrDelete(m)) {
      return; // a table-miss or proactive catch-all, or a delete: not the answer to a packet-in
    } else {
      const pair = this.run.traffic.pairOfFlowMod(m);
      sentAt = pair !== NONE ? this.inflight.ackResidue(pair, this.run.traffic.macs) : this.inflight.ackOldest();
    }
    if (sentAt < 0) return;
    if (this.phase === 'priming') { this.phase = 'running'; this.primed = true; this.wakeReady(); return; }
    if (sentAt >= this.run.measureFrom && now <= this.run.measureTo) {
      this.measured.answered++;
      this.run.latency.record(now - sentAt);
    }
  }

  private onControl(bytes: Uint8Array): void {
    let msg: Message;
    try {
      msg = decode(bytes);
    } catch (e) {
      this.protocolError(e, bytes);
      return;
    }
    switch (msg.type) {
      case 'HELLO': return this.onHello(msg);
      case 'ECHO_REQUEST':
        this.handshake.echoes++;
        return this.sendControl({ type: 'ECHO_REPLY', xid: msg.xid, data: msg.data });
      case 'FEATURES_REQUEST': return this.onFeaturesRequest(msg);
      case 'GET_CONFIG_REQUEST':
        return this.sendControl({ type: 'GET_CONFIG_REPLY', xid: msg.xid, flags: this.configFlags, miss_send_len: this.missSendLen });
      case 'SET_CONFIG':
        this.handshake.setConfig = true;
        this.configFlags = msg.flags; this.missSendLen = msg.miss_send_len;
        return;
      case 'MULTIPART_REQUEST': return this.onMultipart(msg);
      case 'BARRIER_REQUEST':
        this.handshake.barriers++;
        return this.sendControl({ type: 'BARRIER_REPLY', xid: msg.xid });
      case 'ROLE_REQUEST': return this.onRoleRequest(msg);
      case 'GET_ASYNC_REQUEST':
        return this.sendControl({
          type: 'GET_ASYNC_REPLY', xid: msg.xid, packet_in_mask: [0x7, 0x0], port_status_mask: [0x7, 0x7], flow_removed_mask: [0xf, 0x0],
        });
      case 'ERROR':
        return this.problem(`the controller sent ${format(msg)}`);
      case 'EXPERIMENTER':
        return this.sendError(OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER, msg.xid, bytes);
      case 'QUEUE_GET_CONFIG_REQUEST':
        return this.sendControl({ type: 'QUEUE_GET_CONFIG_REPLY', xid: msg.xid, port: msg.port, queues: [] });
      // Accepted and ignored: state changes a benchmark switch need not model, replies to nothing.
      case 'SET_ASYNC': case 'GROUP_MOD': case 'METER_MOD': case 'PORT_MOD': case 'TABLE_MOD':
      case 'ECHO_REPLY': case 'FLOW_MOD': case 'PACKET_OUT':
        return;
      default:
        // Messages only a switch sends (PACKET_IN, replies …) are not requests to a switch.
        return this.sendError(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, msg.xid, bytes);
    }
  }

  private onHello(msg: Msg<'HELLO'>): void {
    const bitmap = msg.elements.find((e): e is { type: 'VERSIONBITMAP'; bitmaps: readonly number[] } => e.type === 'VERSIONBITMAP');
    const speaks13 = bitmap ? ((bitmap.bitmaps[0] ?? 0) & (1 << OFP_VERSION)) !== 0 : msg.version >= OFP_VERSION;
    if (!speaks13) {
      this.sendError(OFPET.HELLO_FAILED, 0, msg.xid, new TextEncoder().encode('OpenFlow 1.3 only'));
      this.fail(`the controller does not offer OpenFlow 1.3 (its HELLO has version ${msg.version}${bitmap ? `, bitmap 0x${(bitmap.bitmaps[0] ?? 0).toString(16)}` : ''})`);
      return;
    }
    this.handshake.hello = true;
  }

  private onFeaturesRequest(msg: Msg<'FEATURES_REQUEST'>): void {
    this.sendControl({
      type: 'FEATURES_REPLY', xid: msg.xid, datapath_id: this.opts.datapathId, n_buffers: 256, n_tables: 254,
      auxiliary_id: 0, capabilities: OFPC.FLOW_STATS | OFPC.TABLE_STATS | OFPC.PORT_STATS | OFPC.GROUP_STATS, reserved: 0,
    });
    if (!this.handshake.features) {
      this.handshake.features = true;
      this.settleTimer = setTimeout(() => this.startPriming(), SETTLE_MS);
    }
  }

  private onMultipart(msg: Msg<'MULTIPART_REQUEST'>): void {
    this.handshake.multiparts++;
    const reply = (mp: Omit<Msg<'MULTIPART_REPLY'>, 'type' | 'xid' | 'flags'>) =>
      this.sendControl({ type: 'MULTIPART_REPLY', xid: msg.xid, flags: 0, ...mp } as Msg<'MULTIPART_REPLY'>);
    switch (msg.mp_type) {
      case 'PORT_DESC':
        reply({ mp_type: 'PORT_DESC', body: this.ports() });
        if (!this.handshake.portDesc) { this.handshake.portDesc = true; if (this.handshake.features) this.startPriming(); }
        return;
      case 'DESC':
        return reply({
          mp_type: 'DESC', body: {
            mfr_desc: 'nfvnode', hw_desc: 'cbench fake switch', sw_desc: 'tools/bench/cbench',
            serial_num: String(this.opts.index + 1), dp_desc: this.name,
          },
        });
      case 'AGGREGATE':
        return reply({ mp_type: 'AGGREGATE', body: { packet_count: 0n, byte_count: 0n, flow_count: 0 } });
      // Nothing installed is kept, so every table, group and meter listing is empty.
      case 'FLOW': case 'TABLE': case 'PORT_STATS': case 'QUEUE': case 'GROUP': case 'GROUP_DESC':
      case 'METER': case 'METER_CONFIG': case 'TABLE_FEATURES':
        return reply({ mp_type: msg.mp_type, body: [] } as Omit<Msg<'MULTIPART_REPLY'>, 'type' | 'xid' | 'flags'>);
      default:
        return this.sendError(OFPET.BAD_REQUEST, OFPBRC.BAD_MULTIPART, msg.xid, encode(msg));
    }
  }

  private onRoleRequest(msg: Msg<'ROLE_REQUEST'>): void {
    this.handshake.roles++;
    if (msg.role !== OFPCR_ROLE.NOCHANGE) {
      this.role = msg.role;
      if (msg.role !== OFPCR_ROLE.EQUAL) this.generationId = msg.generation_id;
    }
    this.sendControl({ type: 'ROLE_REPLY', xid: msg.xid, role: this.role, generation_id: this.generationId });
  }

  private ports(): Port[] {
    const dp = Number(this.opts.datapathId & 0xffffn);
    return Array.from({ length: this.run.traffic.ports }, (_, i) => ({
      port_no: i + 1,
      hw_addr: ['02', 'cb', (dp >> 8).toString(16), (dp & 255).toString(16), '00', (i + 1).toString(16)].map((x) => x.padStart(2, '0')).join(':'),
      name: `s${this.opts.index + 1}-eth${i + 1}`,
      config: 0, state: OFPPS.LIVE,
      curr: OFPPF['10GB_FD'] | OFPPF.COPPER, advertised: 0, supported: OFPPF['10GB_FD'] | OFPPF.COPPER, peer: 0,
      curr_speed: 10_000_000, max_speed: 10_000_000,
    }));
  }

  // ------------------------------------------------------------------ sending

  private startPriming(): void {
    if (this.settleTimer) { clearTimeout(this.settleTimer); this.settleTimer = null; }
    if (this.phase !== 'handshake') return;
    this.phase = 'priming';
    this.fill();
  }

  /** Send packet-ins until the window is full or the socket pushes back. */
  private fill(): void {
    if (this.blocked || !this.socket || this.socket.writableEnded) return;
    const window = this.phase === 'running' ? this.opts.window : this.phase === 'priming' ? 1 : 0;
    const n = window - this.inflight.outstanding;
    if (n <= 0) return;
    const traffic = this.run.traffic;
    const len = traffic.msgLen;
    const buf = Buffer.allocUnsafe(n * len);
    const now = this.run.clock();
    for (let i = 0; i < n; i++) traffic.writePacketIn(buf, i * len, this.inflight.add(now), this.opts.buffered);
    if (now >= this.run.measureFrom && now <= this.run.measureTo) this.measured.packetInsSent += n;
    this.countLost(now);
    if (!this.socket.write(buf)) this.blocked = true;
  }

  /** Packet-ins the window gave up since the last call count as lost while measuring. */
  private countLost(now: number): void {
    const d = this.inflight.dropped - this.droppedSeen;
    if (d === 0) return;
    this.droppedSeen = this.inflight.dropped;
    if (this.phase === 'running' && now >= this.run.measureFrom && now <= this.run.measureTo) this.measured.lost += d;
  }

  private sendControl(msg: Message): void {
    const s = this.socket;
    if (!s || s.destroyed || s.writableEnded) return;
    if (!s.write(encode(msg))) this.blocked = true;
  }

  private sendError(errType: number, code: number, xid: number, data: Uint8Array): void {
    // The offending message, at most 64 bytes of it (§7.4.4).
    this.sendControl({ type: 'ERROR', xid, err_type: errType, code, data: data.slice(0, 64) });
  }

  private protocolError(e: unknown, bytes: Uint8Array | null): void {
    if (!(e instanceof OfpError)) throw e;
    const xid = bytes && bytes.length >= 8 ? ((bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7]) >>> 0 : 0;
    this.sendError(e.errType, e.errCode, xid, bytes ?? new Uint8Array());
    this.problem(`malformed message from the controller: ${e.message}`);
    if (!bytes) this.fail(`unrecoverable stream from the controller (${errorName(e.errType, e.errCode)})`);
  }

  // ------------------------------------------------------------------ state

  private problem(what: string): void {
    if (this.problems.length < MAX_CONTROL_ERRORS) this.problems.push(what);
    else if (this.problems.length === MAX_CONTROL_ERRORS) this.problems.push('… (further problems not shown)');
  }

  private fail(what: string): void {
    if (this.phase === 'failed' || this.phase === 'stopped') return;
    this.phase = 'failed';
    this.problems.unshift(what);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.socket?.destroy();
    this.wakeReady();
  }

  private wakeReady(): void {
    for (const w of this.readyWaiters.splice(0)) w();
  }

  private nextXid(): number { return this.xid++; }
}

