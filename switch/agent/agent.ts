/**
 * The OpenFlow 1.3 switch agent: one datapath (a Backend), its tables (FlowTables), and any
 * number of controller connections (Session) speaking to it at once.
 *
 * What happens where:
 * - A controller message is handled here, synchronously and in arrival order per
 *   connection; modifications go through a Txn (txn.ts): decided by FlowTables, mirrored to
 *   the backend, all or nothing. BARRIER_REQUEST waits for `backend.commit()` (ARCHITECTURE
 *   decision 4) before its reply, and holds back that connection's later messages.
 * - The flow-install path: a FLOW_MOD ADD that fastadd.ts can decide from its bytes is not
 *   decoded; FlowTables keeps the entry as those bytes (addWire), and its datapath record
 *   waits in PendingAdds with the ADDs that arrived with it, installed in one backend call
 *   before any other message is handled, when the connection has processed all it received,
 *   and before timeouts run. A controller sees what one Txn per message would show
 *   (pendingadds.ts); everything else takes the path above.
 * - Roles (§6.3.6): equal by default; MASTER demotes the other masters to SLAVE; MASTER and
 *   SLAVE requests carry a generation_id compared with the largest seen, as a signed 64-bit
 *   distance (a smaller one is OFPRRFC_STALE). A slave gets OFPBRC_IS_SLAVE for PACKET_OUT,
 *   FLOW_MOD, GROUP_MOD, PORT_MOD, TABLE_MOD, METER_MOD, bundle adds and TABLE_FEATURES
 *   requests with a body.
 * - Asynchronous messages go to each connection whose async configuration (§7.3.10, per
 *   role) asks for them: PACKET_IN (drained from the backend: polled, and at once when the
 *   backend wakes the agent), PORT_STATUS (changes the backend saw, and PORT_MODs),
 *   FLOW_REMOVED (entries with OFPFF_SEND_FLOW_REM removed by a delete, a group or meter
 *   delete, or a timeout). A connection that stops reading loses async messages rather than
 *   buffering without bound.
 * - Timeouts: every `expireIntervalMs` the agent reads the last-hit time of the entries whose
 *   idle timeout looks due, then removes what expired (FlowTables.expire).
 *
 * Choices where the specification leaves room (Open vSwitch behaves the same unless said):
 * - n_buffers is 0: a PACKET_OUT with a buffer_id is OFPBRC_BUFFER_UNKNOWN; a FLOW_MOD with
 *   one is applied, then answered with OFPBRC_BUFFER_UNKNOWN.
 * - miss_send_len (SET_CONFIG) bounds OFPR_INVALID_TTL packet-ins, which are made when any
 *   connection's async configuration asks for them; table-miss and action packet-ins are
 *   cut to the output action's max_len (OpenFlow 1.3 §7.2.5, §7.3.2).
 * - SET_CONFIG: OFPC_FRAG_NORMAL always, OFPC_FRAG_DROP when the backend can, OFPC_FRAG_REASM
 *   never, other bits neither (OFPSCFC_BAD_FLAGS). The configuration is the switch's, shared by all connections.
 * - TABLE_MOD: table config is deprecated in 1.3; bits 0–1 are accepted, others are
 *   OFPTMFC_BAD_CONFIG. TABLE_FEATURES with a body (reconfiguring tables) is OFPTFFC_EPERM.
 * - PACKET_OUT in_port: a port of this switch, OFPP_CONTROLLER or OFPP_LOCAL; else
 *   OFPBRC_BAD_PORT.
 * - Messages only a switch sends (FEATURES_REPLY, PACKET_IN …) are OFPBRC_BAD_TYPE.
 */
import type { Socket } from 'node:net';
import { match } from 'ts-pattern';
import {
  encode, OfpError,
  OFPET, OFPBRC, OFPPMFC, OFPTMFC, OFPQOFC, OFPRRFC, OFPTFFC, OFPSCFC, OFPCR_ROLE, OFPP, OFPQ_ALL, OFPTT, OFPPC, OFPPR, OFPR,
  OFPC, OFPC_FRAG, OFP_NO_BUFFER, OFPFC, OFPFF, OFPMPF_REQ_MORE, OFPT,
  type Message, type Msg, type Port, type MultipartTypeName,
} from '../../controller/of13/index.js';
import { silentLogger, type Logger } from '../../controller/log.js';
import { FlowTables, flowRemoved, type FlowChange, type FlowEntry, type FlowTablesOptions } from './flowtable.js';
import { validateActions } from './validate.js';
import { OFP_DEFAULT_MISS_SEND_LEN } from './oracle/pipeline.js';
import { Session, type SessionHost, type SessionOptions } from './session.js';
import { Mirror, Txn } from './txn.js';
import { fastFlowModAdd, type FastAdd } from './fastadd.js';
import { PendingAdds } from './pendingadds.js';
import { flowModParts, packetOutActions, groupModBuckets, meterModBands } from './wireparts.js';
import { tableFeatures, groupFeatures, meterFeatures, splitReply, MAX_MESSAGE } from './multipart.js';
import { bundleMessage, bundleAddRaw, isBundleMessage, BundleMessageError, type BundledMessage, type BundleHost } from './bundle.js';
import { BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER, type Backend } from './backend.js';

/** ofp_desc strings (§7.3.5.1). */
export interface SwitchDesc {
  readonly mfr_desc: string;
  readonly hw_desc: string;
  readonly sw_desc: string;
  readonly serial_num: string;
  readonly dp_desc: string;
}

export interface AgentOptions {
  readonly datapathId: bigint;
  readonly backend: Backend;
  readonly log?: Logger;
  /** monotonic nanoseconds (default process.hrtime.bigint); the oracle backend should share it */
  readonly clock?: () => bigint;
  readonly desc?: Partial<SwitchDesc>;
  readonly session?: SessionOptions;
  /** how often packet-ins and port changes are polled (ms; default 1, or 50 when the backend can wake the agent) */
  readonly pollIntervalMs?: number;
  /** how often timeouts are checked (ms, default 100) */
  readonly expireIntervalMs?: number;
  /** multipart replies are cut into parts of at most this many bytes (default 65535) */
  readonly maxReplyBytes?: number;
  /** OFPFMFC_TABLE_FULL beyond this many entries per table (default: none); also ofp_table_features.max_entries */
  readonly maxEntries?: number;
  readonly maxGroups?: number;
  readonly maxMeters?: number;
  readonly maxBands?: number;
  /**
   * What FlowTables validates against beyond the defaults: `experimenterAction` (accept the
   * BRAS experimenter actions the datapath implements), `matchFields`, `validPort`,
   * `validQueue` (validate.ts ValidationContext).
   */
  readonly validation?: Pick<FlowTablesOptions, 'experimenterAction' | 'matchFields' | 'validPort' | 'validQueue'>;
}

/** FEATURES_REPLY capabilities: what this agent answers. */
export const CAPABILITIES = OFPC.FLOW_STATS | OFPC.TABLE_STATS | OFPC.PORT_STATS | OFPC.GROUP_STATS;

const PORT_CONFIG_BITS = OFPPC.PORT_DOWN | OFPPC.NO_RECV | OFPPC.NO_FWD | OFPPC.NO_PACKET_IN;
const OFPTC_DEPRECATED_MASK = 3;
const PACKET_IN_BUDGET = 4096;
/**
 * Bytes of unfinished OFPMPF_REQ_MORE request chains one connection may leave with the switch
 * (OFPBRC_MULTIPART_BUFFER_OVERFLOW beyond): room for a TABLE_FEATURES request describing
 * 255 tables with every property many times over.
 */
export const MAX_PENDING_REQUEST_BYTES = 4 * 1024 * 1024;

const fail = (type: number, code: number, msg: string, path = ''): never => { throw new OfpError(type, code, msg, -1, path); };
const isSlaveError = () => new OfpError(OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, 'a slave controller cannot modify the switch');

export interface AgentCounters {
  packetIns: number;
  packetInsDropped: number;
  flowRemoved: number;
  portStatus: number;
  flowMods: number;
  /** ONF bundles committed */
  bundles: number;
}

export class Agent implements SessionHost, BundleHost {
  readonly datapathId: bigint;
  readonly backend: Backend;
  readonly tables: FlowTables;
  readonly mirror: Mirror;
  /** FLOW_MOD ADDs taken from their bytes, waiting to be installed together */
  readonly pendingAdds: PendingAdds;
  readonly log: Logger;
  readonly sessions = new Set<Session>();
  readonly desc: SwitchDesc;
  readonly counters: AgentCounters = { packetIns: 0, packetInsDropped: 0, flowRemoved: 0, portStatus: 0, flowMods: 0, bundles: 0 };
  /** the switch configuration of SET_CONFIG */
  readonly config = { flags: OFPC_FRAG.NORMAL as number, miss_send_len: OFP_DEFAULT_MISS_SEND_LEN };
  /** largest generation_id seen in a MASTER or SLAVE role request (§6.3.6) */
  generationId: bigint | undefined;
  private readonly clock: () => bigint;
  private readonly opts: AgentOptions;
  private pollTimer: NodeJS.Timeout | null = null;
  private expireTimer: NodeJS.Timeout | null = null;
  private pollScheduled = false;
  private commitRunning: Promise<void> | null = null;
  private commitNext: Promise<void> | null = null;
  private invalidTtlOn = false;
  private stopped = false;
  private portNos = new Set<number>();
  private portNosAt = 0;

  constructor(opts: AgentOptions) {
    this.opts = opts;
    this.datapathId = opts.datapathId;
    this.backend = opts.backend;
    this.log = opts.log ?? silentLogger;
    this.clock = opts.clock ?? (() => process.hrtime.bigint());
    this.tables = new FlowTables({
      ...opts.validation,
      nTables: opts.backend.nTables,
      ...(opts.maxEntries !== undefined ? { maxEntries: opts.maxEntries } : {}),
      groups: opts.maxGroups !== undefined ? { maxGroups: opts.maxGroups } : {},
      meters: { ...(opts.maxMeters !== undefined ? { maxMeters: opts.maxMeters } : {}), maxBands: opts.maxBands ?? 16 },
    });
    this.mirror = new Mirror(this.tables, this.backend, this.clock);
    this.pendingAdds = new PendingAdds(this.mirror, this.clock);
    this.desc = {
      mfr_desc: 'nfvnode', hw_desc: 'nfvnode userspace OpenFlow switch', sw_desc: 'nfvnode switch agent 0.1',
      serial_num: '', dp_desc: `datapath 0x${opts.datapathId.toString(16).padStart(16, '0')}`, ...opts.desc,
    };
    this.backend.setConfig(this.config.flags, this.config.miss_send_len);
  }

  /** Start polling the backend and expiring entries. */
  start(): this {
    const wakes = typeof this.backend.setWakeup === 'function';
    if (wakes) this.backend.setWakeup!(() => this.schedulePoll());
    this.pollTimer = setInterval(() => this.poll(), this.opts.pollIntervalMs ?? (wakes ? 50 : 1));
    this.expireTimer = setInterval(() => this.expire(), this.opts.expireIntervalMs ?? 100);
    return this;
  }

  /** Close every connection and stop the timers (the backend stays open: its owner closes it). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.flushAdds();
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.expireTimer) clearInterval(this.expireTimer);
    this.backend.setWakeup?.(null);
    const closing = [...this.sessions].map((s) => { const w = s.whenClosed(); s.close('switch agent stopping'); return w; });
    await Promise.all(closing);
  }

  /** A new controller connection (from a listener or an active connection). */
  accept(socket: Socket, origin: string): Session {
    const s = new Session(this, socket, origin, this.opts.session);
    if (this.stopped) { s.close('switch agent stopping'); return s; }
    this.sessions.add(s);
    return s;
  }

  // ------------------------------------------------------------------ SessionHost

  attached(_s: Session): void { /* async messages flow once the session is ready */ }

  detached(s: Session): void {
    this.sessions.delete(s);
    this.updateInvalidTtl();
  }

  /** A connection processed all it received: install the ADDs that came with it. */
  drained(_s: Session): void { this.flushAdds(); }

  /** Install the waiting ADDs (pendingadds.ts); a failure is logged, never thrown at a caller. */
  flushAdds(): void {
    if (!this.pendingAdds.size) return;
    try {
      this.pendingAdds.flush();
    } catch (e) {
      this.log.error({ err: (e as Error)?.stack ?? String(e) }, 'installing flow entries failed');
    }
  }

  /** The barrier: resolves after a backend commit that started after this call. */
  commit(): Promise<void> {
    this.flushAdds();
    if (!this.commitRunning) {
      const run = this.backend.commit().finally(() => { if (this.commitRunning === run) this.commitRunning = null; });
      this.commitRunning = run;
      return run;
    }
    // A commit is running; it may have started before our changes: wait for the next one.
    if (!this.commitNext) {
      const prev = this.commitRunning;
      const next = prev.catch(() => undefined).then(() => {
        this.commitNext = null;
        return this.commit();
      });
      this.commitNext = next;
    }
    return this.commitNext;
  }

  /**
   * Messages taken from their bytes: FLOW_MOD ADDs that fastadd.ts can decide (the flow
   * install path), and bundle adds (large bundles are the controller's flow-mod path). Any
   * other message first installs the waiting ADDs, so that it sees them in the datapath and
   * its reply or error follows theirs.
   */
  handleRaw(s: Session, raw: Uint8Array): boolean {
    if (raw[1] === OFPT.FLOW_MOD && !s.isSlave) {
      const f = fastFlowModAdd(raw, this.tables.validation);
      if (f) { this.fastAdd(s, raw, f); return true; }
    }
    this.flushAdds();
    return raw[1] === OFPT.EXPERIMENTER && bundleAddRaw(s, raw);
  }

  private fastAdd(s: Session, raw: Uint8Array, f: FastAdd): void {
    const p = this.pendingAdds;
    let c;
    try {
      c = this.tables.addWire(f, p.now());
    } catch (e) {
      // TABLE_FULL: the errors of earlier messages go first, and an earlier ADD the datapath
      // refuses makes room, as it would have had the messages been installed one by one
      if (!p.size) throw e;
      this.flushAdds();
      c = this.tables.addWire(f, p.now());
    }
    p.push(s, raw, f, c);
    this.counters.flowMods++;
    if (p.full) this.flushAdds();
  }

  /**
   * One message from a controller. A `switch` over the message union whose `default` only
   * compiles when every type is handled: the exhaustiveness of ts-pattern's `.exhaustive()`,
   * without the objects a match chain allocates on every FLOW_MOD (≈10 % of the flow-mod path).
   */
  handle(s: Session, msg: Message, raw: Uint8Array): void | Promise<void> {
    switch (msg.type) {
      case 'FLOW_MOD': return this.flowMod(s, msg, raw);
      case 'PACKET_OUT': return this.packetOut(s, msg, raw);
      case 'BARRIER_REQUEST': return this.commit().then(() => s.send({ type: 'BARRIER_REPLY', xid: msg.xid }));
      case 'ECHO_REQUEST': return s.send({ type: 'ECHO_REPLY', xid: msg.xid, data: msg.data });
      case 'MULTIPART_REQUEST': return this.multipart(s, msg, raw);
      case 'GROUP_MOD': return this.groupMod(s, msg, raw);
      case 'METER_MOD': return this.meterMod(s, msg, raw);
      case 'FEATURES_REQUEST': return s.send({
        type: 'FEATURES_REPLY', xid: msg.xid, datapath_id: this.datapathId, n_buffers: 0, n_tables: this.tables.nTables,
        auxiliary_id: 0, capabilities: CAPABILITIES, reserved: 0,
      });
      case 'GET_CONFIG_REQUEST': return s.send({ type: 'GET_CONFIG_REPLY', xid: msg.xid, flags: this.config.flags, miss_send_len: this.config.miss_send_len });
      case 'SET_CONFIG': return this.setConfig(msg);
      case 'PORT_MOD': return this.portMod(s, msg);
      case 'TABLE_MOD': return this.tableMod(s, msg);
      case 'QUEUE_GET_CONFIG_REQUEST':
        if (msg.port !== OFPP.ANY && !this.hasPort(msg.port)) fail(OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_PORT, `no port ${msg.port}`);
        return s.send({ type: 'QUEUE_GET_CONFIG_REPLY', xid: msg.xid, port: msg.port, queues: [] });
      case 'ROLE_REQUEST': return this.roleRequest(s, msg);
      case 'GET_ASYNC_REQUEST': return s.send({
        type: 'GET_ASYNC_REPLY', xid: msg.xid, packet_in_mask: [...s.async.packet_in_mask],
        port_status_mask: [...s.async.port_status_mask], flow_removed_mask: [...s.async.flow_removed_mask],
      });
      case 'SET_ASYNC':
        s.async = {
          packet_in_mask: [msg.packet_in_mask[0] >>> 0, msg.packet_in_mask[1] >>> 0],
          port_status_mask: [msg.port_status_mask[0] >>> 0, msg.port_status_mask[1] >>> 0],
          flow_removed_mask: [msg.flow_removed_mask[0] >>> 0, msg.flow_removed_mask[1] >>> 0],
        };
        return this.updateInvalidTtl();
      case 'EXPERIMENTER':
        if (isBundleMessage(msg)) return bundleMessage(this, s, msg, raw);
        return fail(OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER, `experimenter 0x${msg.experimenter.toString(16)} exp_type ${msg.exp_type}`);
      case 'HELLO': case 'ECHO_REPLY':
        return;
      case 'ERROR':
        this.log.warn({ peer: s.peer, error: s.describe(msg) }, 'error from controller');
        return;
      case 'FEATURES_REPLY': case 'GET_CONFIG_REPLY': case 'PACKET_IN': case 'FLOW_REMOVED': case 'PORT_STATUS':
      case 'MULTIPART_REPLY': case 'BARRIER_REPLY': case 'QUEUE_GET_CONFIG_REPLY': case 'ROLE_REPLY': case 'GET_ASYNC_REPLY':
        return fail(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, `${msg.type} is sent by switches, not to them`);
      default: {
        const unhandled: never = msg;
        return fail(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, `message ${(unhandled as Message).type}`);
      }
    }
  }

  // ------------------------------------------------------------------ modifications

  private now(): bigint { return this.clock(); }

  private flowMod(s: Session, m: Msg<'FLOW_MOD'>, raw: Uint8Array): void {
    if (s.isSlave) throw isSlaveError();
    const now = this.now();
    const txn = new Txn(this.mirror);
    txn.flowMod(m, flowModParts(raw), now);
    this.finish(txn, now);
    this.counters.flowMods++;
    if (m.buffer_id !== OFP_NO_BUFFER && m.command !== OFPFC.DELETE && m.command !== OFPFC.DELETE_STRICT) {
      fail(OFPET.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN, `no buffer ${m.buffer_id} (this switch does not buffer packets)`);
    }
  }

  private groupMod(s: Session, m: Msg<'GROUP_MOD'>, raw: Uint8Array): void {
    if (s.isSlave) throw isSlaveError();
    const now = this.now();
    const txn = new Txn(this.mirror);
    txn.groupMod(m, groupModBuckets(raw), now);
    this.finish(txn, now);
  }

  private meterMod(s: Session, m: Msg<'METER_MOD'>, raw: Uint8Array): void {
    if (s.isSlave) throw isSlaveError();
    const now = this.now();
    const txn = new Txn(this.mirror);
    txn.meterMod(m, meterModBands(raw), now);
    this.finish(txn, now);
  }

  /** Mirror a transaction and tell the controllers about removed entries. */
  private finish(txn: Txn, now: bigint): void {
    const removed = txn.commit();
    if (removed.length) this.sendFlowRemoved(removed, now);
  }

  /** BundleHost: the messages of a committed bundle, as one transaction. */
  applyBundle(_s: Session, msgs: readonly BundledMessage[]): void {
    const now = this.now();
    const txn = new Txn(this.mirror);
    let i = 0;
    try {
      for (; i < msgs.length; i++) {
        const { msg, raw } = msgs[i];
        if (msg.type === 'FLOW_MOD') {
          txn.flowMod(msg, flowModParts(raw), now);
          if (msg.buffer_id !== OFP_NO_BUFFER && msg.command !== OFPFC.DELETE && msg.command !== OFPFC.DELETE_STRICT) {
            fail(OFPET.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN, `no buffer ${msg.buffer_id}`);
          }
        } else if (msg.type === 'GROUP_MOD') txn.groupMod(msg, groupModBuckets(raw), now);
        else if (msg.type === 'METER_MOD') txn.meterMod(msg, meterModBands(raw), now);
        else fail(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, `${msg.type} in a bundle`);
      }
    } catch (e) {
      txn.rollback();
      if (e instanceof OfpError) throw new BundleMessageError(i, e);
      throw e;
    }
    this.finish(txn, now);
    this.counters.flowMods += msgs.length;
    this.counters.bundles++;
  }

  private packetOut(s: Session, m: Msg<'PACKET_OUT'>, raw: Uint8Array): void {
    if (s.isSlave) throw isSlaveError();
    if (m.buffer_id !== OFP_NO_BUFFER) fail(OFPET.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN, `no buffer ${m.buffer_id} (this switch does not buffer packets)`);
    const inPort = m.in_port;
    if (!(inPort === OFPP.CONTROLLER || inPort === OFPP.LOCAL || (inPort >= 1 && inPort <= OFPP.MAX && this.hasPort(inPort)))) {
      fail(OFPET.BAD_REQUEST, OFPBRC.BAD_PORT, `in_port 0x${inPort.toString(16)} is not a port of this switch`);
    }
    validateActions(m.actions, this.tables.validation, 'PACKET_OUT.actions', true);
    this.backend.packetOut({ in_port: inPort, actions: packetOutActions(raw), data: m.data });
  }

  /**
   * Does the switch have this port? Port numbers are cached (a PACKET_OUT per packet-in must
   * not cost a description of every port); an unknown number refreshes the cache, at most
   * every 100 ms, and every port change from the backend refreshes it.
   */
  private hasPort(port_no: number): boolean {
    if (this.portNos.has(port_no)) return true;
    const now = Date.now();
    if (now - this.portNosAt < 100) return false;
    this.refreshPortNos(now);
    return this.portNos.has(port_no);
  }
  private refreshPortNos(now = Date.now()): void {
    this.portNos = new Set(this.backend.ports().map((p) => p.port_no));
    this.portNosAt = now;
  }

  private portDesc(port_no: number): Port | undefined {
    return this.backend.ports().find((p) => p.port_no === port_no);
  }

  private portMod(s: Session, m: Msg<'PORT_MOD'>): void {
    if (s.isSlave) throw isSlaveError();
    const p = m.port_no <= OFPP.MAX || m.port_no === OFPP.LOCAL ? this.portDesc(m.port_no) : undefined;
    if (!p) return fail(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_PORT, `no port 0x${m.port_no.toString(16)}`);
    if (m.hw_addr.toLowerCase() !== p.hw_addr.toLowerCase()) fail(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_HW_ADDR, `port ${p.port_no} has hw_addr ${p.hw_addr}, not ${m.hw_addr}`);
    if (m.mask & ~PORT_CONFIG_BITS) fail(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_CONFIG, `config mask 0x${m.mask.toString(16)}`);
    if (m.advertise !== 0 && (m.advertise & ~p.supported) !== 0) fail(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_ADVERTISE, `advertise 0x${m.advertise.toString(16)}`);
    const config = (p.config & ~m.mask) | (m.config & m.mask);
    if (config === p.config) return;
    this.backend.portMod(p.port_no, m.config, m.mask);
    const now = this.portDesc(p.port_no);
    if (now) this.sendPortStatus(OFPPR.MODIFY, now);
  }

  private tableMod(s: Session, m: Msg<'TABLE_MOD'>): void {
    if (s.isSlave) throw isSlaveError();
    if (m.table_id >= this.tables.nTables && m.table_id !== OFPTT.ALL) fail(OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_TABLE, `table ${m.table_id}`);
    if (m.config & ~OFPTC_DEPRECATED_MASK) fail(OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_CONFIG, `config 0x${m.config.toString(16)}`);
  }

  private setConfig(m: Msg<'SET_CONFIG'>): void {
    // OF1.3.5 §7.3.2 defines only the OFPC_FRAG_* bits; others are refused, as Open vSwitch does
    if (m.flags & ~OFPC_FRAG.MASK) fail(OFPET.SWITCH_CONFIG_FAILED, OFPSCFC.BAD_FLAGS, `flags 0x${m.flags.toString(16)}`);
    const frag = m.flags & OFPC_FRAG.MASK;
    this.backend.setConfig(frag | (this.invalidTtlOn ? BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER : 0), m.miss_send_len);
    this.config.flags = frag;
    this.config.miss_send_len = m.miss_send_len;
  }

  /** Ask the datapath for OFPR_INVALID_TTL packet-ins when some connection wants them. */
  private updateInvalidTtl(): void {
    let on = false;
    for (const s of this.sessions) if (s.wantsPacketIn(OFPR.INVALID_TTL)) on = true;
    if (on === this.invalidTtlOn) return;
    this.invalidTtlOn = on;
    try {
      this.backend.setConfig(this.config.flags | (on ? BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER : 0), this.config.miss_send_len);
    } catch (e) { this.log.warn({ err: (e as Error).message }, 'datapath refused the invalid-TTL configuration'); }
  }

  // ------------------------------------------------------------------ roles (§6.3.6)

  private roleRequest(s: Session, m: Msg<'ROLE_REQUEST'>): void {
    const role = m.role;
    if (role > OFPCR_ROLE.SLAVE) fail(OFPET.ROLE_REQUEST_FAILED, OFPRRFC.BAD_ROLE, `role ${role}`);
    if (role === OFPCR_ROLE.MASTER || role === OFPCR_ROLE.SLAVE) {
      if (this.generationId !== undefined && BigInt.asIntN(64, m.generation_id - this.generationId) < 0n) {
        fail(OFPET.ROLE_REQUEST_FAILED, OFPRRFC.STALE, `generation_id ${m.generation_id} is older than ${this.generationId}`);
      }
      this.generationId = m.generation_id;
    }
    if (role === OFPCR_ROLE.MASTER) {
      for (const o of this.sessions) if (o !== s && o.role === OFPCR_ROLE.MASTER) o.role = OFPCR_ROLE.SLAVE;
    }
    if (role !== OFPCR_ROLE.NOCHANGE) s.role = role;
    s.send({ type: 'ROLE_REPLY', xid: m.xid, role: s.role, generation_id: this.generationId ?? m.generation_id });
    this.updateInvalidTtl();
  }

  // ------------------------------------------------------------------ multipart (§7.3.5)

  private multipart(s: Session, m: Msg<'MULTIPART_REQUEST'>, raw: Uint8Array): void {
    let req = m;
    if (m.mp_type === 'TABLE_FEATURES' && (m.flags & OFPMPF_REQ_MORE)) {
      const chain = s.pendingRequests.get(m.xid) ?? { parts: [], bytes: 0 };
      if (s.pendingRequestBytes + raw.length > MAX_PENDING_REQUEST_BYTES) {
        // a chain the controller never ends would hold memory for as long as the connection
        // lasts: the spec's error for a request larger than the switch buffers, and the chain
        // is dropped (a later part with its xid starts a new one)
        s.pendingRequests.delete(m.xid);
        s.pendingRequestBytes -= chain.bytes;
        fail(OFPET.BAD_REQUEST, OFPBRC.MULTIPART_BUFFER_OVERFLOW,
          `multipart request parts under OFPMPF_REQ_MORE would exceed ${MAX_PENDING_REQUEST_BYTES} bytes on this connection`);
      }
      chain.parts.push(m);
      chain.bytes += raw.length;
      s.pendingRequestBytes += raw.length;
      s.pendingRequests.set(m.xid, chain);
      return;
    }
    if (m.mp_type === 'TABLE_FEATURES' && s.pendingRequests.has(m.xid)) {
      const { parts, bytes } = s.pendingRequests.get(m.xid)!;
      s.pendingRequests.delete(m.xid);
      s.pendingRequestBytes -= bytes;
      const body = [...parts, m].flatMap((p) => (p.mp_type === 'TABLE_FEATURES' ? p.body : []));
      req = { ...m, body };
    }
    const xid = m.xid;
    const now = this.now();
    const send = (mp_type: MultipartTypeName, items: readonly unknown[]) => {
      for (const part of splitReply(xid, mp_type, items, this.opts.maxReplyBytes ?? MAX_MESSAGE)) s.send(part);
    };
    const one = (reply: Msg<'MULTIPART_REPLY'>) => s.send(reply);
    match(req)
      .with({ mp_type: 'DESC' }, () => one({ type: 'MULTIPART_REPLY', xid, mp_type: 'DESC', flags: 0, body: { ...this.desc } }))
      .with({ mp_type: 'FLOW' }, (r) => {
        this.refreshFlows(r.body.table_id);
        send('FLOW', this.tables.flowStats(r.body, now));
      })
      .with({ mp_type: 'AGGREGATE' }, (r) => {
        this.refreshFlows(r.body.table_id);
        one({ type: 'MULTIPART_REPLY', xid, mp_type: 'AGGREGATE', flags: 0, body: this.tables.aggregateStats(r.body) });
      })
      .with({ mp_type: 'TABLE' }, () => {
        this.mirror.refreshTables();
        send('TABLE', this.tables.tableStats());
      })
      .with({ mp_type: 'PORT_STATS' }, (r) => send('PORT_STATS', this.portStats(r.body.port_no)))
      .with({ mp_type: 'QUEUE' }, (r) => {
        const { port_no, queue_id } = r.body;
        if (port_no !== OFPP.ANY && !this.hasPort(port_no)) fail(OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_PORT, `no port ${port_no}`);
        if (queue_id !== OFPQ_ALL) fail(OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_QUEUE, `no queue ${queue_id} (this switch has no queues)`);
        send('QUEUE', []);
      })
      .with({ mp_type: 'GROUP' }, (r) => {
        this.mirror.refreshGroups(this.tables.groups.all().map((g) => g.group_id));
        send('GROUP', this.tables.groupStats(r.body.group_id, now));
      })
      .with({ mp_type: 'GROUP_DESC' }, () => send('GROUP_DESC', this.tables.groupDesc()))
      .with({ mp_type: 'GROUP_FEATURES' }, () => one({
        type: 'MULTIPART_REPLY', xid, mp_type: 'GROUP_FEATURES', flags: 0, body: groupFeatures(this.opts.maxGroups ?? 0xffffff00),
      }))
      .with({ mp_type: 'METER' }, (r) => {
        this.mirror.refreshMeters(this.tables.meters.all().map((x) => x.meter_id));
        send('METER', this.tables.meterStats(r.body.meter_id, now));
      })
      .with({ mp_type: 'METER_CONFIG' }, (r) => send('METER_CONFIG', this.tables.meterConfig(r.body.meter_id)))
      .with({ mp_type: 'METER_FEATURES' }, () => one({
        type: 'MULTIPART_REPLY', xid, mp_type: 'METER_FEATURES', flags: 0, body: meterFeatures(this.opts.maxMeters ?? 0xffff0000, this.opts.maxBands ?? 16),
      }))
      .with({ mp_type: 'TABLE_FEATURES' }, (r) => {
        if (r.body.length) {
          if (s.isSlave) throw isSlaveError();
          fail(OFPET.TABLE_FEATURES_FAILED, OFPTFFC.EPERM, 'the table pipeline of this switch cannot be reconfigured');
        }
        send('TABLE_FEATURES', tableFeatures({ nTables: this.tables.nTables, maxEntries: this.opts.maxEntries ?? 0xffffffff }));
      })
      .with({ mp_type: 'PORT_DESC' }, () => send('PORT_DESC', this.backend.ports()))
      .with({ mp_type: 'EXPERIMENTER' }, (r) => fail(OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER, `experimenter multipart 0x${r.body.experimenter.toString(16)}`))
      .exhaustive();
  }

  private refreshFlows(table_id: number): void {
    if (table_id !== OFPTT.ALL && table_id >= this.tables.nTables) return; // flowStats refuses it
    this.mirror.refresh(this.tables.entries(table_id));
  }

  private portStats(port_no: number): unknown[] {
    const ports = port_no === OFPP.ANY ? this.backend.ports() : [this.portDesc(port_no)].filter((p): p is Port => p !== undefined);
    if (port_no !== OFPP.ANY && !ports.length) fail(OFPET.BAD_REQUEST, OFPBRC.BAD_PORT, `no port ${port_no}`);
    const out: unknown[] = [];
    for (const p of ports) {
      const c = this.backend.portCounters(p.port_no);
      if (!c) continue;
      const { duration_ns, ...rest } = c;
      out.push({ port_no: p.port_no, ...rest, duration_sec: Number(duration_ns / 1_000_000_000n), duration_nsec: Number(duration_ns % 1_000_000_000n) });
    }
    return out;
  }

  // ------------------------------------------------------------------ asynchronous messages

  /** Poll soon (a backend woke us). */
  schedulePoll(): void {
    if (this.pollScheduled || this.stopped) return;
    this.pollScheduled = true;
    setImmediate(() => { this.pollScheduled = false; this.poll(); });
  }

  /** Drain packet-ins and port changes from the backend and send them on. */
  poll(): void {
    if (this.stopped) return;
    try {
      this.pollOnce();
    } catch (e) {
      this.log.error({ err: (e as Error)?.stack ?? String(e) }, 'polling the datapath failed');
    }
  }

  private pollOnce(): void {
    const pins = this.backend.drainPacketIns(PACKET_IN_BUDGET);
    if (pins.length) {
      const ready = [...this.sessions].filter((s) => s.state === 'ready');
      for (const p of pins) {
        const fields: Msg<'PACKET_IN'>['match'][number][] = [{ field: 'in_port', value: p.in_port }];
        if (p.metadata !== 0n) fields.push({ field: 'metadata', value: p.metadata });
        const wire = encode({
          type: 'PACKET_IN', xid: 0, buffer_id: OFP_NO_BUFFER, total_len: p.total_len, reason: p.reason, table_id: p.table_id,
          cookie: p.cookie, match: fields, data: p.data,
        });
        let sent = false;
        for (const s of ready) if (s.wantsPacketIn(p.reason) && s.sendAsync(wire)) sent = true;
        if (sent) this.counters.packetIns++; else this.counters.packetInsDropped++;
      }
      if (pins.length >= PACKET_IN_BUDGET) this.schedulePoll();
    }
    const changes = this.backend.pollPortChanges();
    if (changes.length) this.refreshPortNos();
    for (const c of changes) this.sendPortStatus(c.reason, c.desc);
  }

  private sendPortStatus(reason: number, desc: Port): void {
    const wire = encode({ type: 'PORT_STATUS', xid: 0, reason, desc });
    this.counters.portStatus++;
    for (const s of this.sessions) if (s.wantsPortStatus(reason)) s.sendAsync(wire);
  }

  private sendFlowRemoved(removed: readonly Extract<FlowChange, { op: 'del' }>[], now: bigint): void {
    for (const c of removed) {
      if ((c.entry.flags & OFPFF.SEND_FLOW_REM) === 0) continue;
      const wire = encode(flowRemoved(c.entry, c.reason, now));
      this.counters.flowRemoved++;
      for (const s of this.sessions) if (s.wantsFlowRemoved(c.reason)) s.sendAsync(wire);
    }
  }

  /** Remove the entries whose idle or hard timeout has passed (§5.5). */
  expire(): void {
    if (this.stopped) return;
    try {
      this.expireOnce();
    } catch (e) {
      this.log.error({ err: (e as Error)?.stack ?? String(e) }, 'expiring flow entries failed');
    }
  }

  private expireOnce(): void {
    this.flushAdds();
    const now = this.now();
    const next = this.tables.nextExpiry();
    if (next === undefined || next > now) return;
    // Idle deadlines computed from a stale last-hit time: ask the datapath first.
    const stale: FlowEntry[] = [];
    for (const e of this.mirror.idleTimed) if (e.lastUsedNs + BigInt(e.idle_timeout) * 1_000_000_000n <= now) stale.push(e);
    if (stale.length) this.mirror.refresh(stale);
    const txn = new Txn(this.mirror);
    txn.record(this.tables.expire(now));
    if (txn.size) this.finish(txn, now);
  }

  /** Port descriptions as the backend has them (for tests and the CLI). */
  ports(): Port[] { return this.backend.ports(); }
}

