/**
 * Actions consistent with the match (switch/agent/match-consistency.ts, OpenFlow 1.3.5 §7.2.5,
 * §7.4.4): a FLOW_MOD whose set-field writes, or whose pop_vlan / MPLS / IP TTL action works
 * on, a header the match (as changed by earlier pushes and pops) does not promise is refused
 * with OFPBAC_MATCH_INCONSISTENT — by FlowTables and, for the same bytes, never taken by the
 * FLOW_MOD fast path. Expected answers are Open vSwitch's (ofp-actions.c
 * consistency check) for the same flows.
 */
import t from 'tap';
import { encode, OfpError, OFPET, OFPBAC, OFPVID_PRESENT, type Match, type Action, type Instruction } from '../../controller/of13/index.js';
import { flowMod, applyActions, output } from '../../controller/of13/builders.js';
import { FlowTables } from '../../switch/agent/flowtable.js';
import { fastFlowModAdd } from '../../switch/agent/fastadd.js';

const set = (field: string, value: unknown): Action => ({ type: 'SET_FIELD', field: { field, value } as never });
const IPV4: Match = [{ field: 'eth_type', value: 0x0800 }];
const TCP4: Match = [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }];
const VLAN: Match = [{ field: 'vlan_vid', value: OFPVID_PRESENT | 100 }];
const ANY_VLAN: Match = [{ field: 'vlan_vid', value: OFPVID_PRESENT, mask: OFPVID_PRESENT }];
const MPLS: Match = [{ field: 'eth_type', value: 0x8847 }];
const ND_NS: Match = [{ field: 'eth_type', value: 0x86dd }, { field: 'ip_proto', value: 58 }, { field: 'icmpv6_type', value: 135 }];

const cases: [string, Match, Instruction[], boolean][] = [
  ['eth_dst needs nothing', [], [applyActions(set('eth_dst', '02:00:00:00:00:01'), output(2))], true],
  ['ipv4_src with eth_type=IPv4', IPV4, [applyActions(set('ipv4_src', '10.0.0.1'), output(2))], true],
  ['ipv4_src without eth_type', [], [applyActions(set('ipv4_src', '10.0.0.1'), output(2))], false],
  ['ipv4_src with eth_type=IPv6', [{ field: 'eth_type', value: 0x86dd }], [applyActions(set('ipv4_src', '10.0.0.1'))], false],
  ['ip_dscp with IPv6', [{ field: 'eth_type', value: 0x86dd }], [applyActions(set('ip_dscp', 8))], true],
  ['tcp_src with ip_proto=6', TCP4, [applyActions(set('tcp_src', 80), output(2))], true],
  ['tcp_src with ip_proto=17', [...IPV4, { field: 'ip_proto', value: 17 }], [applyActions(set('tcp_src', 80))], false],
  ['udp_dst with IPv4 only', IPV4, [applyActions(set('udp_dst', 53))], false],
  ['arp_op with ARP', [{ field: 'eth_type', value: 0x0806 }], [applyActions(set('arp_op', 2))], true],
  ['ipv6_nd_sll with NS', ND_NS, [applyActions(set('ipv6_nd_sll', '02:00:00:00:00:09'))], true],
  ['ipv6_nd_tll with NS', ND_NS, [applyActions(set('ipv6_nd_tll', '02:00:00:00:00:09'))], false],
  ['vlan_vid on a tagged match', VLAN, [applyActions(set('vlan_vid', OFPVID_PRESENT | 5), output(2))], true],
  ['vlan_vid on any tag (masked)', ANY_VLAN, [applyActions(set('vlan_vid', OFPVID_PRESENT | 5))], true],
  ['vlan_vid without a tag', [], [applyActions(set('vlan_vid', OFPVID_PRESENT | 5))], false],
  ['vlan_vid on an untagged match', [{ field: 'vlan_vid', value: 0 }], [applyActions(set('vlan_vid', OFPVID_PRESENT | 5))], false],
  ['vlan_pcp after push_vlan', [], [applyActions({ type: 'PUSH_VLAN', ethertype: 0x8100 }, set('vlan_pcp', 3), output(2))], true],
  ['vlan_vid after pop_vlan', VLAN, [applyActions({ type: 'POP_VLAN' }, set('vlan_vid', OFPVID_PRESENT | 5))], false],
  ['vlan_vid before push_vlan', [], [applyActions(set('vlan_vid', OFPVID_PRESENT | 5), { type: 'PUSH_VLAN', ethertype: 0x8100 })], false],
  ['action set: push_vlan runs before set-field whatever the order', [], [{ type: 'WRITE_ACTIONS', actions: [set('vlan_vid', OFPVID_PRESENT | 5), { type: 'PUSH_VLAN', ethertype: 0x8100 }, output(2)] }], true],
  ['action set after apply-actions push_vlan', [], [{ type: 'WRITE_ACTIONS', actions: [set('vlan_pcp', 1)] }, applyActions({ type: 'PUSH_VLAN', ethertype: 0x8100 })], true],
  ['mpls_label on MPLS', MPLS, [applyActions(set('mpls_label', 7))], true],
  ['mpls_label after push_mpls', IPV4, [applyActions({ type: 'PUSH_MPLS', ethertype: 0x8847 }, set('mpls_label', 7))], true],
  ['ipv4_src after push_mpls', IPV4, [applyActions({ type: 'PUSH_MPLS', ethertype: 0x8847 }, set('ipv4_src', '10.0.0.1'))], false],
  ['ipv4_src after pop_mpls to IPv4', MPLS, [applyActions({ type: 'POP_MPLS', ethertype: 0x0800 }, set('ipv4_src', '10.0.0.1'))], true],
  ['tcp_src after pop_mpls (ip_proto unknown)', MPLS, [applyActions({ type: 'POP_MPLS', ethertype: 0x0800 }, set('tcp_src', 1))], false],
  ['write-actions checked too', [], [{ type: 'WRITE_ACTIONS', actions: [set('ipv6_src', '::1')] }], false],
  ['pop_vlan on a tagged match', ANY_VLAN, [applyActions({ type: 'POP_VLAN' }, output(2))], true],
  ['pop_vlan without a tag in the match', [], [applyActions({ type: 'POP_VLAN' }, output(2))], false],
  ['pop_vlan after push_vlan', [], [applyActions({ type: 'PUSH_VLAN', ethertype: 0x8100 }, { type: 'POP_VLAN' })], true],
  ['pop_vlan twice', VLAN, [applyActions({ type: 'POP_VLAN' }, { type: 'POP_VLAN' })], false],
  ['pop_mpls on MPLS', MPLS, [applyActions({ type: 'POP_MPLS', ethertype: 0x0800 }, output(2))], true],
  ['pop_mpls on IPv4', IPV4, [applyActions({ type: 'POP_MPLS', ethertype: 0x0800 })], false],
  ['dec_mpls_ttl without eth_type', [], [applyActions({ type: 'DEC_MPLS_TTL' })], false],
  ['set_mpls_ttl after push_mpls', IPV4, [applyActions({ type: 'PUSH_MPLS', ethertype: 0x8847 }, { type: 'SET_MPLS_TTL', mpls_ttl: 9 })], true],
  ['dec_nw_ttl on IPv6', [{ field: 'eth_type', value: 0x86dd }], [applyActions({ type: 'DEC_NW_TTL' }, output(2))], true],
  ['dec_nw_ttl without eth_type', [], [applyActions({ type: 'DEC_NW_TTL' }, output(2))], false],
  ['set_nw_ttl on ARP', [{ field: 'eth_type', value: 0x0806 }], [applyActions({ type: 'SET_NW_TTL', nw_ttl: 9 })], false],
  ['dec_nw_ttl after pop_mpls to IPv4', MPLS, [applyActions({ type: 'POP_MPLS', ethertype: 0x0800 }, { type: 'DEC_NW_TTL' })], true],
  ['action set: pop_vlan needs the tag before the set runs', [], [{ type: 'WRITE_ACTIONS', actions: [{ type: 'PUSH_VLAN', ethertype: 0x8100 }, { type: 'POP_VLAN' }] }], false],
  ['action set: dec_nw_ttl after the set pops MPLS', MPLS, [{ type: 'WRITE_ACTIONS', actions: [{ type: 'DEC_NW_TTL' }, { type: 'POP_MPLS', ethertype: 0x86dd }] }], true],
  ['copy_ttl_in is not checked', [], [applyActions({ type: 'COPY_TTL_IN' })], true],
];

t.test('FlowTables: MATCH_INCONSISTENT exactly when a prerequisite is missing', (tt) => {
  for (const [what, match, instructions, ok] of cases) {
    const ft = new FlowTables({ nTables: 4 });
    try {
      ft.flowMod(flowMod({ priority: 1, match, instructions }));
      tt.ok(ok, `${what}: accepted`);
    } catch (e) {
      if (!(e instanceof OfpError)) throw e;
      tt.same({ ok, type: e.errType, code: e.errCode }, { ok: false, type: OFPET.BAD_ACTION, code: OFPBAC.MATCH_INCONSISTENT }, `${what}: ${e.message}`);
    }
  }
  // MODIFY is checked against its own match too
  const ft = new FlowTables({ nTables: 4 });
  ft.flowMod(flowMod({ priority: 1, match: IPV4, instructions: [applyActions(output(2))] }));
  try {
    ft.flowMod(flowMod({ command: 1, match: [], instructions: [applyActions(set('ipv4_dst', '10.0.0.2'))] }));
    tt.fail('MODIFY without eth_type: accepted');
  } catch (e) {
    tt.equal((e as OfpError).errCode, OFPBAC.MATCH_INCONSISTENT, 'MODIFY without eth_type: MATCH_INCONSISTENT');
  }
  tt.end();
});

t.test('the FLOW_MOD fast path never takes what the slow path refuses', (tt) => {
  const ctx = { nTables: 4, validPort: (p: number) => p >= 1 && p <= 16 };
  for (const [what, match, instructions, ok] of cases) {
    const raw = encode(flowMod({ priority: 1, match, instructions }));
    if (!ok) tt.equal(fastFlowModAdd(raw, ctx), undefined, `${what}: left to the slow path`);
  }
  const common = encode(flowMod({ priority: 1, match: VLAN, instructions: [applyActions(set('vlan_vid', OFPVID_PRESENT | 5), output(2))] }));
  tt.not(fastFlowModAdd(common, ctx), undefined, 'a VLAN rewrite on a tagged match is still taken');
  tt.end();
});
