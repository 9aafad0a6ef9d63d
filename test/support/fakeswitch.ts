/**
 * A scriptable OpenFlow 1.3 switch for channel and runtime tests: it dials the controller,
 * answers the handshake like a real switch (HELLO, FEATURES, PORT_DESC, barriers, echo,
 * role, flow/group/meter dumps from its own flow table) and records everything it receives.
 * Tests can also make it misbehave (stop answering echoes, stop reading).
 */
import net from 'node:net';
import {
  decode, encode, Framer, OFP_VERSION, OFPFC, type Message, type Msg,
} from '../../controller/of13/index.js';

export interface FakeSwitchOptions {
  readonly port: number;
  readonly host?: string;
  readonly dpid: bigint;
  readonly answerEcho?: boolean;
  readonly helloVersion?: number;
  readonly bitmap?: boolean;
}

export class FakeSwitch {
  readonly received: Message[] = [];
  /** Flow table as the switch holds it, by table/priority/match text. */
  readonly flows = new Map<string, Msg<'FLOW_MOD'>>();
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  answerEcho: boolean;
  private readonly framer = new Framer();
  private waiters: { pred: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  constructor(private readonly opts: FakeSwitchOptions) {
    this.answerEcho = opts.answerEcho ?? true;
    this.socket = net.connect({ port: opts.port, host: opts.host ?? '127.0.0.1' });
    this.closed = new Promise((r) => this.socket.once('close', () => r()));
    this.socket.on('error', () => undefined);
    this.socket.on('connect', () => this.send({
      type: 'HELLO', version: opts.helloVersion ?? OFP_VERSION, xid: 1,
      elements: opts.bitmap === false ? [] : [{ type: 'VERSIONBITMAP', bitmaps: [1 << (opts.helloVersion ?? OFP_VERSION)] }],
    }));
    this.socket.on('data', (chunk) => {
      for (const bytes of this.framer.push(chunk)) {
        const m = decode(bytes);
        this.received.push(m);
        this.onMessage(m);
        this.waiters = this.waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true));
      }
    });
  }

  send(m: Message): void { this.socket.write(encode(m)); }

  /** Resolves with the first message (already received or future) that satisfies pred. */
  waitFor(pred: (m: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    const have = this.received.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`fake switch ${this.opts.dpid}: timed out waiting (received: ${this.received.map((x) => x.type).join(',')})`)), timeoutMs);
      this.waiters.push({ pred, resolve: (m) => { clearTimeout(t); resolve(m); } });
    });
  }

  close(): void { this.socket.destroy(); }

  private onMessage(m: Message): void {
    switch (m.type) {
      case 'FEATURES_REQUEST':
        this.send({ type: 'FEATURES_REPLY', xid: m.xid, datapath_id: this.opts.dpid, n_buffers: 0, n_tables: 64, auxiliary_id: 0, capabilities: 0x4f, reserved: 0 });
        break;
      case 'ECHO_REQUEST':
        if (this.answerEcho) this.send({ type: 'ECHO_REPLY', xid: m.xid, data: m.data });
        break;
      case 'BARRIER_REQUEST': this.send({ type: 'BARRIER_REPLY', xid: m.xid }); break;
      case 'ROLE_REQUEST': this.send({ type: 'ROLE_REPLY', xid: m.xid, role: m.role, generation_id: m.generation_id }); break;
      case 'FLOW_MOD': this.applyFlowMod(m); break;
      case 'MULTIPART_REQUEST': this.multipart(m); break;
      default: break;
    }
  }

  private key(f: { table_id: number; priority: number; match: Msg<'FLOW_MOD'>['match'] }): string {
    return `${f.table_id}/${f.priority}/${JSON.stringify(f.match, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`;
  }

  private applyFlowMod(m: Msg<'FLOW_MOD'>): void {
    if (m.command === OFPFC.ADD || m.command === OFPFC.MODIFY_STRICT) this.flows.set(this.key(m), m);
    else if (m.command === OFPFC.DELETE_STRICT) this.flows.delete(this.key(m));
    else if (m.command === OFPFC.DELETE) this.flows.clear();
  }

  private multipart(m: Msg<'MULTIPART_REQUEST'>): void {
    const reply = (body: unknown) => this.send({ type: 'MULTIPART_REPLY', xid: m.xid, mp_type: m.mp_type, flags: 0, body } as Message);
    switch (m.mp_type) {
      case 'PORT_DESC':
        reply([1, 2].map((n) => ({
          port_no: n, hw_addr: `02:00:00:00:00:0${n}`, name: `p${n}`, config: 0, state: 4, curr: 0x2800,
          advertised: 0, supported: 0, peer: 0, curr_speed: 10_000_000, max_speed: 10_000_000,
        })));
        break;
      case 'FLOW':
        reply([...this.flows.values()].map((f) => ({
          table_id: f.table_id, duration_sec: 1, duration_nsec: 0, priority: f.priority, idle_timeout: f.idle_timeout,
          hard_timeout: f.hard_timeout, flags: f.flags, cookie: f.cookie, packet_count: 0n, byte_count: 0n,
          match: f.match, instructions: f.instructions,
        })));
        break;
      case 'GROUP_DESC': case 'METER_CONFIG': reply([]); break;
      default: break;
    }
  }
}
