#!/usr/bin/env python3
"""os-ken side of the flow-install benchmark: an OpenFlow 1.3 os-ken app.

Why this exists: benchmark `flow-install` (issue 3, section 4) compares how fast our
controller installs flows into Open vSwitch with ovs-ofctl and with os-ken (Debian's
python3-os-ken). This app is the os-ken part. On the first switch that connects it sends
N FLOW_MODs -- the same flow set as tools/bench/flow_install_peers.ts benchFlows(n):

    table 0, priority 100, match in_port=1, eth_type=0x0800, ipv4_dst=10.(i>>16).(i>>8).(i)
    instructions APPLY_ACTIONS(OUTPUT port 2, max_len 0),   i = 0 .. N-1

then one BARRIER_REQUEST, and measures from just before the first FLOW_MOD is built to
the BARRIER_REPLY (building and serialising the messages is part of the controller's work,
so it is inside the measurement, as it would be for any controller app). It prints one JSON
line on stdout and exits the process.

Run it with osken-manager (it is an app, not a script):

    OSKN_BENCH_FLOWS=100000 OSKN_BENCH_TIMEOUT=300 \\
      /usr/bin/osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port PORT \\
      tools/bench/oskn_flow_install.py

Environment:
  OSKN_BENCH_FLOWS    N (default 100000, at most 2**24)
  OSKN_BENCH_TIMEOUT  seconds after which the app gives up (default 300): it prints a JSON
                      line with "error" and exits with status 2. It also exits (status 3)
                      when its parent process goes away. It never outlives these bounds.

Output (last line of stdout):
  {"oskn_flow_install": true, "flows": N, "seconds": s, "per_s": r, "send_seconds": s1,
   "errors": e, "first_error": "...", "os_ken": "2.5.0", "python": "3.11.2"}
"""
import json
import os
import platform
import sys
import time

import os_ken
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import (CONFIG_DISPATCHER, MAIN_DISPATCHER,
                                       set_ev_cls)
from os_ken.lib import hub
from os_ken.ofproto import ofproto_v1_3

MAX_FLOWS = 1 << 24


def _env_number(name, default, cast):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except ValueError:
        _emit({"oskn_flow_install": True, "error": "bad %s=%r" % (name, raw)}, 2)


def _emit(obj, status):
    """Print the result line and end the whole process now (osken-manager has no clean
    'stop' for an app; os._exit also ends every green thread)."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def ipv4_dst(i):
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


class FlowInstallBench(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.n = _env_number("OSKN_BENCH_FLOWS", 100000, int)
        self.timeout = _env_number("OSKN_BENCH_TIMEOUT", 300.0, float)
        if not 1 <= self.n <= MAX_FLOWS:
            _emit({"oskn_flow_install": True, "error": "OSKN_BENCH_FLOWS must be 1..%d" % MAX_FLOWS}, 2)
        self.started = None
        self.sent = None
        self.barrier_xid = None
        self.errors = 0
        self.first_error = None
        self.parent = os.getppid()
        hub.spawn(self._guard)

    def _base(self):
        return {"oskn_flow_install": True, "flows": self.n,
                "os_ken": getattr(os_ken, "__version__", "unknown"),
                "python": platform.python_version()}

    def _guard(self):
        """Bounded life: give up after the timeout, or when the parent is gone."""
        end = time.monotonic() + self.timeout
        while time.monotonic() < end:
            hub.sleep(0.2)
            if os.getppid() != self.parent:
                _emit(dict(self._base(), error="parent process went away"), 3)
        state = "no switch connected" if self.started is None else (
            "still sending" if self.sent is None else "no BARRIER_REPLY")
        _emit(dict(self._base(), error="timed out after %gs (%s)" % (self.timeout, state)), 2)

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        if self.started is not None:  # only the first switch is measured
            return
        dp = ev.msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        self.logger.info("oskn_flow_install: switch %016x connected, sending %d FLOW_MODs",
                         dp.id, self.n)
        self.started = time.perf_counter()
        for i in range(self.n):
            match = parser.OFPMatch(in_port=1, eth_type=0x0800, ipv4_dst=ipv4_dst(i))
            inst = [parser.OFPInstructionActions(
                ofp.OFPIT_APPLY_ACTIONS, [parser.OFPActionOutput(2, 0)])]
            dp.send_msg(parser.OFPFlowMod(
                datapath=dp, cookie=0, cookie_mask=0, table_id=0, command=ofp.OFPFC_ADD,
                idle_timeout=0, hard_timeout=0, priority=100, buffer_id=ofp.OFP_NO_BUFFER,
                out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY, flags=0,
                match=match, instructions=inst))
        barrier = parser.OFPBarrierRequest(dp)
        dp.send_msg(barrier)
        self.barrier_xid = barrier.xid
        self.sent = time.perf_counter()

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def error(self, ev):
        self.errors += 1
        if self.first_error is None:
            m = ev.msg
            self.first_error = "type=%d code=%d" % (m.type, m.code)

    @set_ev_cls(ofp_event.EventOFPBarrierReply, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def barrier_reply(self, ev):
        if self.barrier_xid is None or ev.msg.xid != self.barrier_xid:
            return
        done = time.perf_counter()
        seconds = done - self.started
        _emit(dict(self._base(), seconds=round(seconds, 6), per_s=round(self.n / seconds),
                   send_seconds=round(self.sent - self.started, 6), errors=self.errors,
                   first_error=self.first_error), 0)
