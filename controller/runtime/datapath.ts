/**
 * A connected switch as rxjs streams. The runtime creates one per datapath id; when the same
 * switch reconnects, the new channel replaces the old one and the Datapath object (and its
 * streams) stay, so apps keep their subscriptions across reconnects.
 */
import { BehaviorSubject, Subject } from 'rxjs';
import type { Message, Msg, Port } from '../of13/index.js';
import type { Connection } from '../channel/connection.js';
import type { SwitchInfo } from '../channel/handshake.js';

/**
 * connecting: channel up, handshake running; reconciling: comparing the switch with the
 * desired state; ready: the switch holds the desired state; standby: connected as a slave
 * (another controller is master); down: no channel.
 */
export type DatapathState = 'connecting' | 'reconciling' | 'ready' | 'standby' | 'down';

export class Datapath {
  readonly state$ = new BehaviorSubject<DatapathState>('connecting');
  readonly packetIn$ = new Subject<Msg<'PACKET_IN'>>();
  readonly portStatus$ = new Subject<Msg<'PORT_STATUS'>>();
  readonly flowRemoved$ = new Subject<Msg<'FLOW_REMOVED'>>();
  readonly errors$ = new Subject<Msg<'ERROR'>>();
  readonly ports = new Map<number, Port>();
  conn: Connection | null = null;
  info: SwitchInfo | null = null;

  constructor(readonly dpid: bigint) {}

  get id(): string { return '0x' + this.dpid.toString(16).padStart(16, '0'); }

  /** Attach a freshly handshaken channel (replacing any previous one). */
  attach(conn: Connection, info: SwitchInfo): void {
    if (this.conn && this.conn !== conn) this.conn.close('replaced by a new connection from the same datapath');
    this.conn = conn;
    this.info = info;
    this.ports.clear();
    for (const p of info.ports) this.ports.set(p.port_no, p);
    conn.setReceiver((m) => this.receive(m));
    conn.closed$.subscribe(() => {
      if (this.conn === conn) { this.conn = null; this.state$.next('down'); }
    });
  }

  /** A message of the current channel, onto the stream that carries its kind. */
  private receive(m: Message): void {
    switch (m.type) {
      case 'PACKET_IN': this.packetIn$.next(m); break;
      case 'FLOW_REMOVED': this.flowRemoved$.next(m); break;
      case 'PORT_STATUS':
        if (m.reason === 1) this.ports.delete(m.desc.port_no); else this.ports.set(m.desc.port_no, m.desc);
        this.portStatus$.next(m);
        break;
      case 'ERROR': this.errors$.next(m); break;
      default: break;
    }
  }
}
