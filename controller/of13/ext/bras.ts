/**
 * nfvnode's BRAS extensions to OpenFlow 1.3 (docs/openflow-extensions.md): experimenter OXM
 * fields to match PPPoE and L2TPv2, and experimenter actions to push/pop PPPoE and L2TPv2
 * data encapsulation. All under one experimenter id. Importing this module registers them
 * with the codec, so `{ field: 'pppoe_session_id', value: 0x1234 }` and
 * `{ type: 'EXPERIMENTER', experimenter: NFVNODE_EXPERIMENTER_ID, name: 'push_pppoe', session_id }`
 * encode and decode like standard fields and actions.
 */
import { registerOxm, oxmDef } from '../spec/oxm.js';
import { registerExperimenterAction } from '../spec/actions.js';
import { struct, u8, u16, ipv4, pad, type InferFields } from '../schema.js';
import { OFPXMC, OFPET, OFPBAC } from '../spec/enums.js';

/**
 * "NFV" in the low three bytes. Not an IEEE-assigned OUI: experimenter ids from the ONF
 * registry would be, but this extension is private to nfvnode switches and controllers.
 */
export const NFVNODE_EXPERIMENTER_ID = 0x004e4656;

export const ETH_TYPE_PPPOE_DISCOVERY = 0x8863;
export const ETH_TYPE_PPPOE_SESSION = 0x8864;
export const L2TP_UDP_PORT = 1701;

/** Experimenter OXM field numbers (class 0xFFFF, this experimenter). */
export const BRAS_OXM = {
  pppoe_code: 0,
  pppoe_session_id: 1,
  ppp_protocol: 2,
  l2tp_tunnel_id: 3,
  l2tp_session_id: 4,
} as const;

/** Experimenter action subtypes. */
export const BRAS_ACTION = {
  push_pppoe: 1,
  pop_pppoe: 2,
  push_l2tp: 3,
  pop_l2tp: 4,
} as const;

const PPPOE = { field: 'eth_type', values: [ETH_TYPE_PPPOE_DISCOVERY, ETH_TYPE_PPPOE_SESSION] };
const PPPOE_SESSION = { field: 'eth_type', values: [ETH_TYPE_PPPOE_SESSION] };
const L2TP = { field: 'udp_dst', values: [L2TP_UDP_PORT] };

const exp = (name: keyof typeof BRAS_OXM, width: number, prereq: { field: string; values: number[] }[], bits?: number) => ({
  name, oxmClass: OFPXMC.EXPERIMENTER, field: BRAS_OXM[name], width, kind: 'uint' as const, maskable: false,
  experimenter: NFVNODE_EXPERIMENTER_ID, prereq, ...(bits ? { bits } : {}),
});

/** Action bodies (after experimenter id and subtype); each action is padded to 8 bytes. */
export const BrasActionBodies = {
  /**
   * IPv4/IPv6 frame → PPPoE session frame: ether-type 0x8864, PPPoE header (ver 1, type 1,
   * code 0, session_id, length), PPP protocol 0x0021/0x0057 from the inner ether-type.
   */
  push_pppoe: struct('push_pppoe', { session_id: u16, _pad: pad(4) }, { err: [OFPET.BAD_ACTION, OFPBAC.BAD_LEN] }),
  /** PPPoE session frame carrying IPv4/IPv6 → the plain frame (ether-type from the PPP protocol). */
  pop_pppoe: struct('pop_pppoe', { _pad: pad(6) }, { err: [OFPET.BAD_ACTION, OFPBAC.BAD_LEN] }),
  /**
   * PPPoE session frame → L2TPv2 data message (RFC 2661 §3.1) over UDP/IPv4: the PPPoE header
   * is replaced by IPv4 (src, dst, ttl, DF) + UDP (udp_src → 1701) + L2TP (flags L=1 with the
   * length field, version 2, tunnel_id, session_id) and, when `address_control` is 1, the
   * HDLC address/control bytes FF 03 before the PPP protocol field. Ether-type becomes
   * 0x0800; Ethernet addresses are set with SET_FIELD afterwards.
   */
  push_l2tp: struct('push_l2tp', {
    tunnel_id: u16, session_id: u16, ipv4_src: ipv4, ipv4_dst: ipv4, udp_src: u16, ttl: u8, address_control: u8,
    _pad: pad(6),
  }, { err: [OFPET.BAD_ACTION, OFPBAC.BAD_LEN] }),
  /**
   * L2TPv2 data message over UDP/IPv4 → PPPoE session frame with `session_id`: outer
   * IPv4/UDP/L2TP headers (and FF 03 if present) removed, PPPoE header inserted.
   */
  pop_l2tp: struct('pop_l2tp', { session_id: u16, _pad: pad(4) }, { err: [OFPET.BAD_ACTION, OFPBAC.BAD_LEN] }),
} as const;

type Bodies = typeof BrasActionBodies;
/** A BRAS action as a value: `{ type: 'EXPERIMENTER', experimenter, name: 'push_pppoe', session_id }`. */
export type BrasAction = {
  [K in keyof Bodies]: { readonly type: 'EXPERIMENTER'; readonly experimenter: typeof NFVNODE_EXPERIMENTER_ID; readonly name: K } & InferFields<Bodies[K]['fields']>
}[keyof Bodies];

/** Build a BRAS action value (the experimenter id filled in). */
export function brasAction<K extends keyof Bodies>(name: K, fields: InferFields<Bodies[K]['fields']>): BrasAction {
  return { type: 'EXPERIMENTER', experimenter: NFVNODE_EXPERIMENTER_ID, name, ...fields } as BrasAction;
}

let registered = false;
/** Register the fields and actions with the codec (idempotent; done on import). */
export function registerBrasExtensions(): void {
  if (registered || oxmDef('pppoe_code')) { registered = true; return; }
  registerOxm(exp('pppoe_code', 1, [PPPOE]));
  registerOxm(exp('pppoe_session_id', 2, [PPPOE]));
  registerOxm(exp('ppp_protocol', 2, [PPPOE_SESSION]));
  registerOxm(exp('l2tp_tunnel_id', 2, [L2TP]));
  registerOxm(exp('l2tp_session_id', 2, [L2TP]));
  for (const [name, body] of Object.entries(BrasActionBodies)) {
    registerExperimenterAction({ name, experimenter: NFVNODE_EXPERIMENTER_ID, subtype: BRAS_ACTION[name as keyof Bodies], body });
  }
  registered = true;
}
registerBrasExtensions();

