/**
 * SCTP set-field in the C datapath (pkt/edit.c): the CRC32-C (RFC 9260 App. A) is recomputed
 * after sctp_src / sctp_dst are written, over IPv4 and IPv6, behind a VLAN tag and after
 * pop_mpls; a checksum that was wrong stays wrong by the same error (Open vSwitch's
 * packet_set_sctp_port, the oracle's checksum.ts), so the switch never vouches for a
 * corrupted packet.
 */
import t from 'tap';
import { withDatapath } from './c-harness.js';
import { matchBytes, instructionBytes } from '../../switch/wire.js';
import { buildFrame, type FrameSpec } from '../../switch/agent/oracle/build.js';
import { sctpChecksum, readSctpChecksum } from '../../switch/agent/oracle/checksum.js';
import type { Action, Match } from '../../controller/of13/index.js';

const out = (port: number): Action => ({ type: 'OUTPUT', port, max_len: 0 });
const set = (field: 'sctp_src' | 'sctp_dst', value: number): Action => ({ type: 'SET_FIELD', field: { field, value } });
const chunks = new Uint8Array(Array.from({ length: 52 }, (_, i) => i)); // a DATA chunk's worth of bytes
const sctp = (src: number, dst: number) => ({ proto: 'sctp' as const, src, dst, vtag: 0x01020304, chunks });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Where the SCTP header starts in a frame built by buildFrame (no IP options). */
function sctpAt(f: Uint8Array): number {
  let o = 12;
  for (;;) {
    const et = (f[o] << 8) | f[o + 1];
    if (et === 0x8100 || et === 0x88a8) { o += 4; continue; }
    return et === 0x0800 ? o + 2 + 20 : o + 2 + 40;
  }
}

t.test('set sctp_src / sctp_dst: bytes equal a freshly built frame, CRC32-C included', async (t) => {
  const cases: [string, FrameSpec, Match, Action[], FrameSpec][] = [
    ['IPv4 sctp_src', { ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: sctp(11111, 2222) } },
      [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 132 }], [set('sctp_src', 12345)],
      { ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: sctp(12345, 2222) } }],
    ['IPv6 sctp_dst', { ipv6: { src: '10::10', dst: '20::20', l4: sctp(11111, 2222) } },
      [{ field: 'eth_type', value: 0x86dd }, { field: 'ip_proto', value: 132 }], [set('sctp_dst', 2905)],
      { ipv6: { src: '10::10', dst: '20::20', l4: sctp(11111, 2905) } }],
    ['behind a VLAN tag, both ports', { vlans: [{ vid: 100, pcp: 3 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: sctp(1, 2) } },
      [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 132 }], [set('sctp_src', 3868), set('sctp_dst', 36412)],
      { vlans: [{ vid: 100, pcp: 3 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: sctp(3868, 36412) } }],
    ['after pop_mpls', { mpls: [{ label: 100, tc: 3, ttl: 64 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: sctp(11111, 2222) } },
      [{ field: 'eth_type', value: 0x8847 }], [{ type: 'POP_MPLS', ethertype: 0x0800 }, set('sctp_src', 12345)],
      { ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: sctp(12345, 2222) } }],
  ];
  for (const [what, input, match, actions, expected] of cases) {
    await withDatapath('ofsw-sctp-', async (dp, r) => {
      const f = buildFrame(input);
      r.addPort(1, [f]);
      r.addPort(2);
      dp.addFlow({ tableId: 0, priority: 1, match: matchBytes(match), instructions: instructionBytes([{ type: 'APPLY_ACTIONS', actions: [...actions, out(2)] }]) });
      await r.run();
      const got = r.output(2);
      t.equal(got.length, 1, `${what}: forwarded`);
      t.equal(hex(got[0] ?? new Uint8Array()), hex(buildFrame(expected)), `${what}: bytes`);
    });
  }
});

t.test('a wrong SCTP checksum stays wrong by the same error', async (t) => {
  await withDatapath('ofsw-sctp-', async (dp, r) => {
    const f = buildFrame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: sctp(11111, 2222) } });
    const at = sctpAt(f);
    f[at + 8] ^= 0x5a; // corrupt the stored CRC32-C
    const errBefore = (readSctpChecksum(f, at + 8) ^ sctpChecksum(f, at, f.length)) >>> 0;
    r.addPort(1, [f]);
    r.addPort(2);
    dp.addFlow({ tableId: 0, priority: 1, match: matchBytes([{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 132 }]), instructions: instructionBytes([{ type: 'APPLY_ACTIONS', actions: [set('sctp_src', 9), out(2)] }]) });
    await r.run();
    const [g] = r.output(2);
    t.ok(g, 'forwarded');
    t.equal(((g[at] << 8) | g[at + 1]), 9, 'port written');
    t.equal((readSctpChecksum(g, at + 8) ^ sctpChecksum(g, at, g.length)) >>> 0, errBefore, 'same error as before');
    t.not(errBefore, 0, 'the input was corrupt');
  });
});
