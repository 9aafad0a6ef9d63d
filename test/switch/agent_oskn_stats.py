"""An os-ken app that reads flow, port and table statistics back from every switch.

Used by test/switch/agent-oskn.test.ts next to the learning switch
(tools/bench/cbench/oskn_simple_switch_13.py): every 0.2 s it sends OFPFlowStatsRequest,
OFPPortStatsRequest, OFPPortDescStatsRequest and OFPAggregateStatsRequest, gathers the
replies (following OFPMPF_REPLY_MORE), and writes what os-ken decoded as JSON to the file
named by $NFVNODE_OSKN_STATS (replaced atomically), so the test compares os-ken's reading
of the switch with what the switch holds.
"""
import json
import os

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import DEAD_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib import hub
from os_ken.ofproto import ofproto_v1_3


def _value(v):
    if isinstance(v, tuple):  # (value, mask)
        return [_value(x) for x in v]
    return v


def _actions(actions):
    out = []
    for a in actions:
        d = {'type': a.type}
        if hasattr(a, 'port'):
            d['port'] = a.port
        if hasattr(a, 'max_len'):
            d['max_len'] = a.max_len
        out.append(d)
    return out


def _instructions(insts):
    out = []
    for i in insts:
        d = {'type': i.type}
        if hasattr(i, 'actions'):
            d['actions'] = _actions(i.actions)
        out.append(d)
    return out


class StatsReader(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.path = os.environ['NFVNODE_OSKN_STATS']
        self.datapaths = {}
        self.partial = {}
        self.state = {}
        self.thread = hub.spawn(self._poll)

    @set_ev_cls(ofp_event.EventOFPStateChange, [MAIN_DISPATCHER, DEAD_DISPATCHER])
    def _state(self, ev):
        dp = ev.datapath
        if ev.state == MAIN_DISPATCHER:
            self.datapaths[dp.id] = dp
        elif dp.id in self.datapaths:
            del self.datapaths[dp.id]

    def _poll(self):
        while True:
            for dp in list(self.datapaths.values()):
                ofp, parser = dp.ofproto, dp.ofproto_parser
                dp.send_msg(parser.OFPFlowStatsRequest(dp, 0, ofp.OFPTT_ALL, ofp.OFPP_ANY, ofp.OFPG_ANY, 0, 0, parser.OFPMatch()))
                dp.send_msg(parser.OFPAggregateStatsRequest(dp, 0, ofp.OFPTT_ALL, ofp.OFPP_ANY, ofp.OFPG_ANY, 0, 0, parser.OFPMatch()))
                dp.send_msg(parser.OFPPortStatsRequest(dp, 0, ofp.OFPP_ANY))
                dp.send_msg(parser.OFPPortDescStatsRequest(dp, 0))
            hub.sleep(0.2)

    def _gather(self, ev, key, rows):
        msg = ev.msg
        part = self.partial.setdefault((msg.datapath.id, key, msg.xid), [])
        part.extend(rows)
        if msg.flags & msg.datapath.ofproto.OFPMPF_REPLY_MORE:
            return
        del self.partial[(msg.datapath.id, key, msg.xid)]
        dp = self.state.setdefault(str(msg.datapath.id), {})
        dp[key] = part
        dp[key + '_parts'] = dp.get(key + '_parts', 0) + 1
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(self.state, f)
        os.replace(tmp, self.path)

    @set_ev_cls(ofp_event.EventOFPFlowStatsReply, MAIN_DISPATCHER)
    def _flows(self, ev):
        self._gather(ev, 'flows', [{
            'table_id': s.table_id, 'priority': s.priority, 'cookie': s.cookie,
            'idle_timeout': s.idle_timeout, 'hard_timeout': s.hard_timeout, 'flags': s.flags,
            'packet_count': s.packet_count, 'byte_count': s.byte_count,
            'match': {k: _value(v) for k, v in s.match.items()},
            'instructions': _instructions(s.instructions),
        } for s in ev.msg.body])

    @set_ev_cls(ofp_event.EventOFPAggregateStatsReply, MAIN_DISPATCHER)
    def _aggregate(self, ev):
        b = ev.msg.body
        self._gather(ev, 'aggregate', [{'packet_count': b.packet_count, 'byte_count': b.byte_count, 'flow_count': b.flow_count}])

    @set_ev_cls(ofp_event.EventOFPPortStatsReply, MAIN_DISPATCHER)
    def _ports(self, ev):
        self._gather(ev, 'ports', [{
            'port_no': s.port_no, 'rx_packets': s.rx_packets, 'tx_packets': s.tx_packets,
            'rx_bytes': s.rx_bytes, 'tx_bytes': s.tx_bytes, 'rx_dropped': s.rx_dropped, 'tx_dropped': s.tx_dropped,
        } for s in ev.msg.body])

    @set_ev_cls(ofp_event.EventOFPPortDescStatsReply, MAIN_DISPATCHER)
    def _port_desc(self, ev):
        self._gather(ev, 'port_desc', [{
            'port_no': p.port_no, 'name': p.name.decode() if isinstance(p.name, bytes) else p.name,
            'hw_addr': p.hw_addr, 'config': p.config, 'state': p.state,
        } for p in ev.msg.body])
