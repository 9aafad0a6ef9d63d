#!/usr/bin/python3
"""osken-manager, with one os-ken bug under Python 3 fixed first (used by ryu-tester.ts).

os_ken.lib.packet.sctp.sctp._checksum iterates over str(data): under Python 3 that is the
text "bytearray(b'...')", not the bytes, so every SCTP packet os-ken builds carries a wrong
CRC32-C. Ryu's set-field tests on sctp_src/sctp_dst then expect that wrong value from a switch
that recomputes the checksum correctly (tshark: "checksum status: Bad" for os-ken's value,
"Good" for the switch's). This replaces it with RFC 9260 Appendix B's CRC32-C, stored as
os-ken stores it; nothing else changes. Arguments are osken-manager's.
"""
import struct
import sys


def _crc32c(data):
    crc = 0xffffffff
    for b in bytes(data):
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    crc = ~crc & 0xffffffff
    # os-ken packs the result with '!I' after this swap: the wire carries the CRC's low byte first
    return struct.unpack('>I', struct.pack('<I', crc))[0]


def main():
    from os_ken.lib.packet import sctp
    sctp.sctp._checksum = lambda self, data: _crc32c(data)
    from os_ken.cmd.manager import main as manager_main
    return manager_main()


if __name__ == '__main__':
    sys.exit(main())
