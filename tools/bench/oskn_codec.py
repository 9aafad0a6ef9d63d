#!/usr/bin/env python3
"""Measure os-ken's OpenFlow 1.3 decode (and optionally encode) rate.

Why this exists: the codec benchmark compares our TypeScript OpenFlow codec
with os-ken (the Python controller framework) in the same run, on the same
wire messages. This script is the os-ken side: it parses each given message
through the same path an os-ken controller uses (ofproto_parser.header() then
ofproto_parser.msg()) as often as it can for a fixed time, and reports the
rate as one JSON object on the last line of stdout.

os-ken comes from the Debian package python3-os-ken, which installs into the
system interpreter's dist-packages; if this script runs under another
Python 3 (e.g. pyenv), that directory is appended to sys.path as a fallback.
"""
import argparse
import json
import os
import platform
import sys
import time

DIST_PACKAGES = "/usr/lib/python3/dist-packages"
CHECK_EVERY = 256  # iterations between clock reads, keeps timing overhead low

try:
    import os_ken
except ImportError:
    if os.path.isdir(DIST_PACKAGES) and DIST_PACKAGES not in sys.path:
        sys.path.append(DIST_PACKAGES)
    try:
        import os_ken
    except ImportError as e:
        sys.exit("oskn_codec: cannot import os_ken (%s); install python3-os-ken" % e)

from os_ken.ofproto import (ofproto_parser, ofproto_protocol, ofproto_v1_3,
                            ofproto_v1_3_parser)
from os_ken.ofproto.ofproto_parser import MsgBase

# Same fake datapath os-ken's own unit tests use (tests/unit/ofproto/test_parser_v13.py):
# carries .ofproto = ofproto_v1_3 and .ofproto_parser = ofproto_v1_3_parser.
DATAPATH = ofproto_protocol.ProtocolDesc(version=ofproto_v1_3.OFP_VERSION)


def decode(buf):
    """One parse, exactly as os-ken's controller does it for a received message."""
    version, msg_type, msg_len, xid = ofproto_parser.header(buf)
    return ofproto_parser.msg(DATAPATH, version, msg_type, msg_len, xid, buf)


def rate(fn, seconds):
    """Call fn() repeatedly for about `seconds`; return calls per second."""
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(CHECK_EVERY):
            fn()
        n += CHECK_EVERY
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def fail(path, why):
    print("oskn_codec: %s: %s" % (path, why), file=sys.stderr)
    sys.exit(2)


def bench_file(path, seconds, encode):
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        fail(path, "file is %d bytes, shorter than an OpenFlow header" % len(buf))
    version, msg_type, msg_len, _ = ofproto_parser.header(buf)
    if version != ofproto_v1_3.OFP_VERSION:
        fail(path, "version 0x%02x is not OpenFlow 1.3 (0x04)" % version)
    if msg_len != len(buf):
        fail(path, "header length %d != file size %d (need exactly one message)"
             % (msg_len, len(buf)))
    if ofproto_v1_3_parser._MSG_PARSERS.get(msg_type) is None:  # e.g. PACKET_OUT
        fail(path, "os-ken has no OpenFlow 1.3 parser for message type %d" % msg_type)
    try:
        msg = decode(buf)
    except Exception as e:  # noqa: BLE001 - any parser failure is fatal here
        fail(path, "os-ken failed to parse: %r" % e)
    if msg is None:  # ofproto_parser.msg() logs and returns None on parser errors
        fail(path, "os-ken failed to parse (parser returned None)")
    cls = type(msg).__name__
    print("oskn_codec: %s parsed as %s" % (path, cls), file=sys.stderr)

    result = {"decode_per_s": round(rate(lambda: decode(buf), seconds)),
              "encode_per_s": None, "class": cls, "encode_identical": None}
    if encode:
        # serialize() rebuilds msg.buf from the parsed fields on every call
        # (MsgBase._serialize_pre starts from a fresh header-sized bytearray),
        # so repeated calls measure real encoding work, not a cached buffer.
        # Classes os-ken only parses (e.g. OFPPacketIn, stats replies) inherit
        # the no-op MsgBase._serialize_body and emit a bare header; timing that
        # would be meaningless, so encode_per_s stays null for them.
        enc = decode(buf)
        try:
            enc.serialize()
            result["encode_identical"] = bytes(enc.buf) == buf
            if type(enc)._serialize_body is MsgBase._serialize_body and len(buf) > 8:
                print("oskn_codec: %s: os-ken has no serializer for %s; encode "
                      "not measured" % (path, cls), file=sys.stderr)
            else:
                result["encode_per_s"] = round(rate(enc.serialize, seconds))
        except Exception as e:  # noqa: BLE001 - serialize() may reject parsed data
            print("oskn_codec: %s: %s.serialize() failed: %r" % (path, cls, e),
                  file=sys.stderr)
            result["encode_identical"] = False

    line = "oskn_codec: %s %s decode %d/s" % (os.path.basename(path), cls,
                                              result["decode_per_s"])
    if encode:
        enc_rate = result["encode_per_s"]
        line += " encode %s identical=%s" % (
            "n/a" if enc_rate is None else "%d/s" % enc_rate, result["encode_identical"])
    print(line, file=sys.stderr)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", action="append", required=True, metavar="FILE",
                    help="file holding exactly one raw OpenFlow 1.3 message "
                         "(header included); repeatable")
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="time to spend per file and per direction (default 2.0)")
    ap.add_argument("--encode", action="store_true",
                    help="also measure msg.serialize() and compare to the input")
    args = ap.parse_args()
    if args.seconds <= 0:
        ap.error("--seconds must be positive")

    results = {}
    for path in args.input:
        results[os.path.basename(path)] = bench_file(path, args.seconds, args.encode)
    print(json.dumps({"oskn": results, "python": platform.python_version(),
                      "os_ken": getattr(os_ken, "__version__", "unknown")}))


if __name__ == "__main__":
    main()
