/**
 * Actions consistent with a flow entry's match (OpenFlow 1.3.5 §7.4.4 OFPBAC_MATCH_INCONSISTENT:
 * "action can't apply for this match, or Set-Field missing prerequisite").
 *
 * - Set-field (§7.2.5): the field's OXM prerequisites (table 12, §7.2.3.6) must be met. Like
 *   Open vSwitch, set-field vlan_vid needs a VLAN tag too (OpenFlow 1.3 set-field rewrites a
 *   tag, it never pushes one).
 * - The actions that work on one header need the match to promise it, as Open vSwitch
 *   requires (ofp-actions.c consistency check): pop_vlan a VLAN tag; pop_mpls, set_mpls_ttl
 *   and dec_mpls_ttl an MPLS eth_type; set_nw_ttl and dec_nw_ttl an IPv4 or IPv6 eth_type.
 *   copy_ttl_in/out, which Open vSwitch does not implement, are not checked.
 *
 * A requirement is met by the entry's match as changed by the actions that run before:
 * push_vlan gives a VLAN tag, pop_vlan takes it away, push_mpls / pop_mpls set eth_type (and
 * leave nothing known above it). Apply-actions run before the action set (§5.10), and inside
 * the action set pops run first, then pushes, then TTL actions and set-fields, whatever the
 * order of the list (§5.10 "Action Set").
 *
 * Only OpenFlow-basic fields are checked. After an experimenter action (the BRAS push/pop
 * PPPoE and L2TP) nothing more is checked: what it leaves is the extension's business.
 */
import { oxmDefs, OFPXMC, OFPVID_PRESENT, OfpError, OFPET, OFPBAC, type Match, type Instruction, type Action, type OxmDef } from '../../controller/of13/index.js';

/** What the entry knows about the packet at one point of its actions. */
export interface PacketFacts {
  /** exact eth_type (the type after any VLAN tags), or -1 */
  ethType: number;
  /** exact ip_proto, or -1 */
  ipProto: number;
  /** exact icmpv6_type, or -1 */
  icmpv6Type: number;
  /** the packet has a VLAN tag */
  vlan: boolean;
  /** an experimenter action ran: nothing is checked any more */
  opaque: boolean;
}

const BASIC_BY_NAME = new Map<string, OxmDef>();
for (const d of oxmDefs()) if (d.oxmClass === OFPXMC.OPENFLOW_BASIC) BASIC_BY_NAME.set(d.name, d);

/** The facts a match gives (values of non-maskable fields; vlan_vid with OFPVID_PRESENT in value and mask). */
export function factsOfMatch(m: Match): PacketFacts {
  const f: PacketFacts = { ethType: -1, ipProto: -1, icmpv6Type: -1, vlan: false, opaque: false };
  for (const x of m) {
    switch (x.field) {
      case 'eth_type': f.ethType = x.value as number; break;
      case 'ip_proto': f.ipProto = x.value as number; break;
      case 'icmpv6_type': f.icmpv6Type = x.value as number; break;
      case 'vlan_vid': {
        const mask = x.mask === undefined || x.mask === null ? 0x1fff : (x.mask as number);
        f.vlan = ((x.value as number) & mask & OFPVID_PRESENT) !== 0;
        break;
      }
      default: break;
    }
  }
  return f;
}

/** The facts after a push or pop (other actions change none of them). */
export function factsAfter(f: PacketFacts, a: Action): void {
  switch (a.type) {
    case 'PUSH_VLAN': f.vlan = true; return;
    case 'POP_VLAN': f.vlan = false; return; // an inner tag is not known to be there
    // the label stack goes behind the VLAN tags (edit_push_mpls, as Open vSwitch), so a tag stays
    case 'PUSH_MPLS': case 'POP_MPLS': f.ethType = a.ethertype; f.ipProto = -1; f.icmpv6Type = -1; return;
    case 'EXPERIMENTER': f.opaque = true; return;
    default: return;
  }
}

/** Does the packet meet the prerequisites of setting this field? (true for fields not checked here) */
export function setFieldAllowed(f: PacketFacts, field: string): boolean {
  if (f.opaque) return true;
  const d = BASIC_BY_NAME.get(field);
  if (!d) return true;
  if (field === 'vlan_vid') return f.vlan;
  for (const pr of d.prereq ?? []) {
    const got = pr.field === 'eth_type' ? f.ethType : pr.field === 'ip_proto' ? f.ipProto : pr.field === 'icmpv6_type' ? f.icmpv6Type : pr.field === 'vlan_vid' ? (f.vlan ? 1 : -1) : -2;
    if (got === -2) continue; // in_port (in_phy_port is not settable)
    if (got === -1 || (pr.values.length > 0 && !pr.values.includes(got))) return false;
  }
  return true;
}

const ETH_MPLS = [0x8847, 0x8848];
const ETH_IP = [0x0800, 0x86dd];

/** May this action (other than SET_FIELD) run on what the facts promise? */
export function actionAllowed(f: PacketFacts, type: string): boolean {
  if (f.opaque) return true;
  switch (type) {
    case 'POP_VLAN': return f.vlan;
    case 'POP_MPLS': case 'SET_MPLS_TTL': case 'DEC_MPLS_TTL': return ETH_MPLS.includes(f.ethType);
    case 'SET_NW_TTL': case 'DEC_NW_TTL': return ETH_IP.includes(f.ethType);
    default: return true;
  }
}

/** Order of the push/pop actions in an action set (§5.10): pops, push-MPLS, push-PBB, push-VLAN. */
const ACTION_SET_ORDER: Readonly<Record<string, number>> = { POP_VLAN: 0, POP_MPLS: 0, POP_PBB: 0, PUSH_MPLS: 1, PUSH_PBB: 2, PUSH_VLAN: 3 };

/**
 * Throws OFPBAC_MATCH_INCONSISTENT for the first action of `insts` that the match (as changed
 * by earlier actions) does not allow.
 */
export function checkMatchConsistency(match: Match, insts: readonly Instruction[]): void {
  const f = factsOfMatch(match);
  const check = (a: Action, path: string): void => {
    if (a.type === 'SET_FIELD' ? !setFieldAllowed(f, a.field.field) : !actionAllowed(f, a.type)) {
      const what = a.type === 'SET_FIELD' ? `set-field ${a.field.field}: its prerequisites are` : `${a.type}: the header it works on is`;
      throw new OfpError(OFPET.BAD_ACTION, OFPBAC.MATCH_INCONSISTENT, `${what} not in the match`, -1, path);
    }
  };
  insts.forEach((ins, i) => {
    if (ins.type !== 'APPLY_ACTIONS') return;
    ins.actions.forEach((a, j) => { check(a, `instructions[${i}].actions[${j}]`); factsAfter(f, a); });
  });
  insts.forEach((ins, i) => {
    if (ins.type !== 'WRITE_ACTIONS') return;
    const path = (a: Action) => `instructions[${i}].actions[${ins.actions.indexOf(a)}]`;
    const tags = ins.actions.filter((a) => a.type in ACTION_SET_ORDER).sort((a, b) => ACTION_SET_ORDER[a.type]! - ACTION_SET_ORDER[b.type]!);
    for (const a of tags) { if (ACTION_SET_ORDER[a.type] === 0) check(a, path(a)); factsAfter(f, a); }
    if (ins.actions.some((a) => a.type === 'EXPERIMENTER')) f.opaque = true;
    for (const a of ins.actions) if (!(a.type in ACTION_SET_ORDER)) check(a, path(a));
  });
}
