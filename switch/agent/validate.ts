/**
 * What a switch checks in a FLOW_MOD or GROUP_MOD beyond the wire format (OpenFlow 1.3.5
 * §6.4 "Flow Table Modification Messages", §7.2.4–7.2.5, §7.4.4), each failure raised as the
 * OfpError whose type/code the agent sends back.
 *
 * Choices where the specification names no code (kept in one place so they are easy to
 * find): an instruction type given twice is OFPBIC_UNSUP_INST; PUSH_PBB/POP_PBB, which this
 * switch does not implement, are OFPBAC_BAD_TYPE; a SET_FIELD of a field that cannot be
 * written (in_port, metadata, eth_type, ip_proto, mpls_bos, …) is OFPBAC_BAD_SET_TYPE and a
 * value outside the field's bits, or vlan_vid without OFPVID_PRESENT (as Open vSwitch and
 * OpenFlow 1.5 require), is OFPBAC_BAD_SET_ARGUMENT. Set-field prerequisites against a flow
 * entry's match (OFPBAC_MATCH_INCONSISTENT) are checked in match-consistency.ts; in group
 * buckets and packet-outs, which have no match, a set-field whose header is absent from a
 * packet does nothing to it (see oracle/rewrite.ts).
 */
import {
  OfpError, checkMatch, OFPET, OFPBMC, OFPBIC, OFPBAC, OFPMMFC, OFPP, OFPG, OFPM, OFPCML, OFPVID_PRESENT,
  type Match, type Instruction, type Action, type OxmUnknown,
} from '../../controller/of13/index.js';
import { fieldInfo, valueToBig, PPPOE_FIELDS } from './flowmatch.js';

/** What validation needs to know about the rest of the switch. */
export interface ValidationContext {
  /** number of flow tables; goto-table must stay below it */
  readonly nTables: number;
  /** does this group exist? (undefined: groups are not checked) */
  readonly groupExists?: (group_id: number) => boolean;
  /** does this meter exist? (undefined: meters are not checked) */
  readonly meterExists?: (meter_id: number) => boolean;
  /** can a physical port number ever be valid (default: 1..OFPP_MAX) */
  readonly validPort?: (port: number) => boolean;
  /** can this queue be used (default: any) */
  readonly validQueue?: (queue_id: number) => boolean;
  /** accept this experimenter action (default: none is accepted) */
  readonly experimenterAction?: (a: Action) => boolean;
  /** match fields this datapath classifies on (default: SUPPORTED_MATCH_FIELDS) */
  readonly matchFields?: ReadonlySet<string>;
}

/**
 * The fields the packet parser (oracle/packet.ts and the C datapath) extracts, plus the
 * pipeline fields metadata and tunnel_id. pbb_isid is not among them (no PBB support): a
 * match on it is OFPBMC_BAD_FIELD.
 */
export const SUPPORTED_MATCH_FIELDS: ReadonlySet<string> = new Set([
  'in_port', 'in_phy_port', 'metadata', 'eth_dst', 'eth_src', 'eth_type', 'vlan_vid', 'vlan_pcp',
  'ip_dscp', 'ip_ecn', 'ip_proto', 'ipv4_src', 'ipv4_dst', 'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst',
  'sctp_src', 'sctp_dst', 'icmpv4_type', 'icmpv4_code', 'arp_op', 'arp_spa', 'arp_tpa', 'arp_sha',
  'arp_tha', 'ipv6_src', 'ipv6_dst', 'ipv6_flabel', 'icmpv6_type', 'icmpv6_code', 'ipv6_nd_target',
  'ipv6_nd_sll', 'ipv6_nd_tll', 'mpls_label', 'mpls_tc', 'mpls_bos', 'tunnel_id', 'ipv6_exthdr',
  PPPOE_FIELDS.code, PPPOE_FIELDS.session_id, PPPOE_FIELDS.ppp_proto, 'l2tp_tunnel_id', 'l2tp_session_id',
]);

/** Fields a SET_FIELD action may write (the header fields of the parsed protocols, and tunnel_id). */
export const SETTABLE_FIELDS: ReadonlySet<string> = new Set([
  'eth_dst', 'eth_src', 'vlan_vid', 'vlan_pcp', 'ip_dscp', 'ip_ecn', 'ipv4_src', 'ipv4_dst',
  'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'icmpv4_type', 'icmpv4_code',
  'arp_op', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha', 'ipv6_src', 'ipv6_dst', 'ipv6_flabel',
  'icmpv6_type', 'icmpv6_code', 'ipv6_nd_target', 'ipv6_nd_sll', 'ipv6_nd_tll', 'mpls_label', 'mpls_tc', 'tunnel_id',
  PPPOE_FIELDS.code, PPPOE_FIELDS.session_id, PPPOE_FIELDS.ppp_proto, 'l2tp_tunnel_id', 'l2tp_session_id',
]);

const fail = (type: number, code: number, msg: string, path = ''): never => { throw new OfpError(type, code, msg, -1, path); };

/** checkMatch from the codec, plus: every field known and classified by this datapath. */
export function validateMatch(m: Match, ctx: Pick<ValidationContext, 'matchFields'> = {}): void {
  const supported = ctx.matchFields ?? SUPPORTED_MATCH_FIELDS;
  for (const x of m) {
    if (x.field === 'unknown') {
      const u = x as OxmUnknown;
      fail(OFPET.BAD_MATCH, OFPBMC.BAD_FIELD, `OXM class 0x${u.oxm_class.toString(16)} field ${u.oxm_field} is not supported`, 'match');
    }
    if (!supported.has(x.field)) fail(OFPET.BAD_MATCH, OFPBMC.BAD_FIELD, `field ${x.field} is not supported`, 'match');
    if (x.mask !== undefined && x.mask !== null && fieldInfo(x.field)?.maskable === false) fail(OFPET.BAD_MATCH, OFPBMC.BAD_MASK, `${x.field} is not maskable`, 'match');
  }
  checkMatch(m);
}

/** A port an OUTPUT action may name in a flow entry or bucket (§7.2.1). */
export function isOutputPort(port: number, ctx: Pick<ValidationContext, 'validPort'>, packetOut = false): boolean {
  if (port === 0) return false;
  if (port <= OFPP.MAX) return ctx.validPort ? ctx.validPort(port) : true;
  switch (port) {
    case OFPP.IN_PORT: case OFPP.ALL: case OFPP.FLOOD: case OFPP.CONTROLLER: case OFPP.LOCAL: return true;
    case OFPP.TABLE: return packetOut; // only valid in packet-out (§7.2.1)
    default: return false; // NORMAL is not implemented; ANY and the reserved gap are never valid
  }
}

/** One action list (apply-actions, write-actions, a bucket, a packet-out). */
export function validateActions(actions: readonly Action[], ctx: ValidationContext, where = 'actions', packetOut = false): void {
  actions.forEach((a, i) => validateAction(a, ctx, `${where}[${i}]`, packetOut));
}

export function validateAction(a: Action, ctx: ValidationContext, path: string, packetOut = false): void {
  const BA = OFPET.BAD_ACTION;
  switch (a.type) {
    case 'OUTPUT':
      if (!isOutputPort(a.port, ctx, packetOut)) fail(BA, OFPBAC.BAD_OUT_PORT, `output to port 0x${a.port.toString(16)}`, path);
      if (a.port === OFPP.CONTROLLER && a.max_len > OFPCML.MAX && a.max_len !== OFPCML.NO_BUFFER) {
        fail(BA, OFPBAC.BAD_ARGUMENT, `max_len ${a.max_len} exceeds OFPCML_MAX`, path);
      }
      return;
    case 'GROUP':
      if (a.group_id > OFPG.MAX) fail(BA, OFPBAC.BAD_OUT_GROUP, `group ${a.group_id} is reserved`, path);
      if (ctx.groupExists && !ctx.groupExists(a.group_id)) fail(BA, OFPBAC.BAD_OUT_GROUP, `group ${a.group_id} does not exist`, path);
      return;
    case 'SET_QUEUE':
      if (ctx.validQueue && !ctx.validQueue(a.queue_id)) fail(BA, OFPBAC.BAD_QUEUE, `queue ${a.queue_id}`, path);
      return;
    case 'PUSH_VLAN':
      if (a.ethertype !== 0x8100 && a.ethertype !== 0x88a8) fail(BA, OFPBAC.BAD_ARGUMENT, `push_vlan ethertype 0x${a.ethertype.toString(16)}`, path);
      return;
    case 'PUSH_MPLS':
      if (a.ethertype !== 0x8847 && a.ethertype !== 0x8848) fail(BA, OFPBAC.BAD_ARGUMENT, `push_mpls ethertype 0x${a.ethertype.toString(16)}`, path);
      return;
    case 'PUSH_PBB': case 'POP_PBB':
      return fail(BA, OFPBAC.BAD_TYPE, `${a.type} is not supported`, path);
    case 'SET_FIELD': {
      const f = a.field;
      if (f.field === 'unknown' || !SETTABLE_FIELDS.has(f.field)) return fail(BA, OFPBAC.BAD_SET_TYPE, `cannot set ${f.field}`, path);
      const info = fieldInfo(f.field);
      if (!info) return fail(BA, OFPBAC.BAD_SET_TYPE, `cannot set ${f.field}`, path);
      if (f.mask !== undefined && f.mask !== null) fail(BA, OFPBAC.BAD_SET_ARGUMENT, 'set-field with a mask', path);
      let v: bigint;
      try { v = valueToBig(info, f.value); } catch { return fail(BA, OFPBAC.BAD_SET_ARGUMENT, `bad ${f.field} value`, path); }
      if (v < 0n || v > info.full) fail(BA, OFPBAC.BAD_SET_ARGUMENT, `${f.field} value ${v} exceeds ${info.bits} bits`, path);
      if (f.field === 'vlan_vid' && (Number(v) & OFPVID_PRESENT) === 0) fail(BA, OFPBAC.BAD_SET_ARGUMENT, 'set-field vlan_vid needs OFPVID_PRESENT', path);
      return;
    }
    case 'EXPERIMENTER':
      if (!ctx.experimenterAction || !ctx.experimenterAction(a)) fail(BA, OFPBAC.BAD_EXPERIMENTER, `experimenter 0x${a.experimenter.toString(16)}`, path);
      return;
    case 'COPY_TTL_OUT': case 'COPY_TTL_IN': case 'SET_MPLS_TTL': case 'DEC_MPLS_TTL':
    case 'POP_VLAN': case 'POP_MPLS': case 'SET_NW_TTL': case 'DEC_NW_TTL':
      return;
    default:
      return fail(BA, OFPBAC.BAD_TYPE, `unknown action ${(a as { type: string }).type}`, path);
  }
}

/** An instruction set of a flow entry in `table_id` (§5.9, §7.2.4). */
export function validateInstructions(insts: readonly Instruction[], table_id: number, ctx: ValidationContext): void {
  const BI = OFPET.BAD_INSTRUCTION;
  const seen = new Set<string>();
  insts.forEach((ins, i) => {
    const path = `instructions[${i}]`;
    if (seen.has(ins.type)) fail(BI, OFPBIC.UNSUP_INST, `${ins.type} appears twice`, path);
    seen.add(ins.type);
    switch (ins.type) {
      case 'GOTO_TABLE':
        if (ins.table_id <= table_id || ins.table_id >= ctx.nTables) fail(BI, OFPBIC.BAD_TABLE_ID, `goto-table ${ins.table_id} from table ${table_id}`, path);
        return;
      case 'WRITE_METADATA': case 'CLEAR_ACTIONS':
        return;
      case 'APPLY_ACTIONS': case 'WRITE_ACTIONS':
        validateActions(ins.actions, ctx, `${path}.actions`);
        return;
      case 'METER':
        if (ins.meter_id === 0 || ins.meter_id > OFPM.MAX) fail(OFPET.METER_MOD_FAILED, OFPMMFC.INVALID_METER, `meter ${ins.meter_id}`, path);
        // OFPMMFC_INVALID_METER is "invalid meter in meter action" (OF1.3.5 §7.4.4, as Open
        // vSwitch answers); UNKNOWN_METER is for a METER_MOD MODIFY of an absent meter
        if (ctx.meterExists && !ctx.meterExists(ins.meter_id)) fail(OFPET.METER_MOD_FAILED, OFPMMFC.INVALID_METER, `meter ${ins.meter_id} does not exist`, path);
        return;
      case 'EXPERIMENTER':
        return fail(BI, OFPBIC.BAD_EXPERIMENTER, `experimenter instruction 0x${ins.experimenter.toString(16)}`, path);
      default:
        return fail(BI, OFPBIC.UNKNOWN_INST, `unknown instruction ${(ins as { type: string }).type}`, path);
    }
  });
}

/** Actions of a flow entry, apply and write lists together (for out_port / out_group filters). */
export function* entryActions(insts: readonly Instruction[]): Generator<Action> {
  for (const ins of insts) if (ins.type === 'APPLY_ACTIONS' || ins.type === 'WRITE_ACTIONS') yield* ins.actions;
}
