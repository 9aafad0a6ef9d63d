#!/usr/bin/env python3
"""A tiny raw-socket (AF_PACKET) sender and receiver for lab tests; Node has no raw sockets.

  rawframes.py send IFACE HEX [HEX ...]      send each frame (hex bytes) on IFACE
  rawframes.py recv IFACE SECONDS ETHERTYPE  print frames of ETHERTYPE (hex, e.g. 88b5) that
                                             arrive on IFACE within SECONDS, one per line:
                                             "VID SRC DST PAYLOAD_HEX" (VID "-" if untagged)

The receiving kernel takes the 802.1Q tag off every frame before packet sockets see it, and
hands it over as PACKET_AUXDATA (tp_vlan_tci, TP_STATUS_VLAN_VALID); the receiver reads it
from there, so it works without VLAN support (8021q) in the kernel. Prints "ready" on
stderr once listening. Frames this host sent (PACKET_OUTGOING) are not reported.
"""
import select
import socket
import struct
import sys
import time

SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
PACKET_OUTGOING = 4
ETH_P_ALL = 3


def send(iface, hexes):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for h in hexes:
        s.send(bytes.fromhex(h))


def mac(b):
    return ':'.join('%02x' % x for x in b)


def recv(iface, seconds, ethertype):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    print('ready', file=sys.stderr, flush=True)
    end = time.time() + seconds
    while True:
        left = end - time.time()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        data, anc, _flags, addr = s.recvmsg(65535, socket.CMSG_SPACE(64))
        if addr[2] == PACKET_OUTGOING:
            continue
        vid = '-'
        for level, kind, cdata in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= 20:
                status, _len, _snap, _mac, _net, tci, _tpid = struct.unpack('IIIHHHH', cdata[:20])
                if status & TP_STATUS_VLAN_VALID:
                    vid = str(tci & 0xfff)
        etype = data[12:14].hex()
        if vid == '-' and etype == '8100':  # tag left in the frame (not offloaded)
            vid = str(struct.unpack('!H', data[14:16])[0] & 0xfff)
            etype = data[16:18].hex()
            payload = data[18:]
        else:
            payload = data[14:]
        if etype != ethertype:
            continue
        print(vid, mac(data[6:12]), mac(data[0:6]), payload.hex(), flush=True)


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'send':
        send(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 5 and sys.argv[1] == 'recv':
        recv(sys.argv[2], float(sys.argv[3]), sys.argv[4].lower())
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
