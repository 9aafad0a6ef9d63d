/**
 * PCAP replay through the real datapath: every port is a `net_pcap` vdev whose rx side reads
 * a capture written from the frames given and whose tx side writes a capture read back after
 * the run. Used by the datapath tests and by tools that want "these frames in, what comes out".
 *
 * ```ts
 * const r = new PcapReplay(dp, dir);
 * r.addPort(1, [frame1, frame2]);   // rx: these frames; tx: captured
 * r.addPort(2);                     // tx only
 * dp.addFlow(...);
 * await r.run();                    // commit, start, wait until every input was processed, stop
 * r.output(2);                      // frames sent on port 2, in order
 * ```
 *
 * net_pcap facts this relies on (DPDK 22.11): the rx capture is opened at probe time and read
 * frame by frame in rx bursts (without infinite_rx it simply runs dry); the tx capture is
 * created at probe time and flushed after every tx burst (its header too, so a capture that
 * got no frame may be an empty file until the port is closed); a port given only tx_pcap
 * still has one (empty) rx queue. Vdev names must be unique among live devices, so each replay numbers
 * its own (`net_pcap<seq>`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PcapWriter, readPcap } from '../tools/pcap/writer.js';
import type { OfswDatapath } from './bindings.js';

let vdevSeq = 0;

interface ReplayPort {
  readonly portNo: number;
  readonly inputs: number;
  readonly txPath: string;
}

export interface RunOptions {
  /** give up waiting for the inputs after this long (default 10 s) */
  readonly timeoutMs?: number;
  /** called after start, before waiting (packet-outs while forwarding …) */
  readonly whileRunning?: () => void | Promise<void>;
}

export class PcapReplay {
  private readonly ports = new Map<number, ReplayPort>();

  constructor(private readonly dp: OfswDatapath, private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Add OpenFlow port portNo as a net_pcap vdev fed with `input` (if any). */
  addPort(portNo: number, input: readonly Uint8Array[] = [], name?: string): void {
    const seq = vdevSeq++;
    const txPath = join(this.dir, `tx-${portNo}-${seq}.pcap`);
    let devargs = `net_pcap${seq}`;
    if (input.length > 0) {
      const w = new PcapWriter();
      input.forEach((f, i) => w.add(f, 1_700_000_000_000_000 + i));
      const rxPath = join(this.dir, `rx-${portNo}-${seq}.pcap`);
      writeFileSync(rxPath, w.toBuffer());
      devargs += `,rx_pcap=${rxPath}`;
    }
    devargs += `,tx_pcap=${txPath}`;
    this.dp.addPort({ devargs, portNo, ...(name ? { name } : {}) });
    this.ports.set(portNo, { portNo, inputs: input.length, txPath });
  }

  /**
   * Commit, start forwarding, wait until every input port has received all its frames and
   * the workers have finished with them (two commits: a full loop iteration, tx drained),
   * then stop. Rejects on timeout, with the counters in the message.
   */
  async run(opts: RunOptions = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    this.dp.commit();
    this.dp.start();
    try {
      await opts.whileRunning?.();
      for (const p of this.ports.values()) {
        while (this.dp.portInfo(p.portNo).rxPackets < BigInt(p.inputs)) {
          if (Date.now() > deadline) {
            throw new Error(`replay: port ${p.portNo} received ${this.dp.portInfo(p.portNo).rxPackets} of ${p.inputs} frames; `
              + `counters ${JSON.stringify(this.dp.counters(), (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`);
          }
          await sleep(5);
        }
      }
      this.dp.commit();
      this.dp.commit();
    } finally {
      this.dp.stop();
    }
  }

  /** Frames the datapath sent on portNo (read back from its tx capture). */
  output(portNo: number): Uint8Array[] {
    const p = this.ports.get(portNo);
    if (!p) throw new Error(`replay: port ${portNo} was not added`);
    const b = readFileSync(p.txPath);
    // libpcap buffers the file header until the first flush: a port that sent nothing may
    // still have an empty file while it is open.
    if (b.length === 0) return [];
    return readPcap(b).records.map((r) => r.data);
  }
}

// ------------------------------------------------------------------ frames

const macBytes = (m: string) => Uint8Array.from(m.split(':').map((x) => parseInt(x, 16)));
const ipv4Bytes = (a: string) => Uint8Array.from(a.split('.').map(Number));

export interface FrameSpec {
  readonly dst?: string;
  readonly src?: string;
  /** 802.1Q tags, outermost first: vid (and pcp) */
  readonly vlans?: readonly { vid: number; pcp?: number; tpid?: number }[];
  /** an IPv4/UDP payload (default), or raw ethertype + payload */
  readonly ipv4?: { src: string; dst: string; ttl?: number; proto?: number; sport?: number; dport?: number; tos?: number };
  readonly ethertype?: number;
  readonly payload?: Uint8Array;
  /** pad to at least this many bytes (default 60, the Ethernet minimum without FCS) */
  readonly minLen?: number;
}

/** RFC 1071 Internet checksum of b. */
export function inetChecksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
  if (b.length % 2) s += b[b.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Build an Ethernet frame (optionally VLAN-tagged, optionally IPv4/UDP with checksums). */
export function frame(s: FrameSpec): Uint8Array {
  const parts: number[] = [...macBytes(s.dst ?? '02:00:00:00:00:02'), ...macBytes(s.src ?? '02:00:00:00:00:01')];
  for (const v of s.vlans ?? []) {
    const tci = ((v.pcp ?? 0) << 13) | (v.vid & 0xfff);
    const tpid = v.tpid ?? 0x8100;
    parts.push(tpid >> 8, tpid & 255, tci >> 8, tci & 255);
  }
  let body: Uint8Array;
  let type: number;
  if (s.ipv4) {
    const ip = s.ipv4;
    const data = s.payload ?? new Uint8Array(8);
    const proto = ip.proto ?? 17;
    const l4 = new Uint8Array(proto === 17 ? 8 + data.length : data.length);
    if (proto === 17) {
      l4[0] = (ip.sport ?? 1000) >> 8; l4[1] = (ip.sport ?? 1000) & 255;
      l4[2] = (ip.dport ?? 2000) >> 8; l4[3] = (ip.dport ?? 2000) & 255;
      l4[4] = l4.length >> 8; l4[5] = l4.length & 255;
      l4.set(data, 8);
    } else {
      l4.set(data);
    }
    const h = new Uint8Array(20);
    h[0] = 0x45; h[1] = ip.tos ?? 0;
    const tot = 20 + l4.length;
    h[2] = tot >> 8; h[3] = tot & 255;
    h[8] = ip.ttl ?? 64; h[9] = proto;
    h.set(ipv4Bytes(ip.src), 12); h.set(ipv4Bytes(ip.dst), 16);
    const c = inetChecksum(h);
    h[10] = c >> 8; h[11] = c & 255;
    if (proto === 17) {
      const ph = new Uint8Array(12 + l4.length);
      ph.set(h.subarray(12, 20), 0); ph[9] = 17; ph[10] = l4.length >> 8; ph[11] = l4.length & 255; ph.set(l4, 12);
      const uc = inetChecksum(ph) || 0xffff;
      l4[6] = uc >> 8; l4[7] = uc & 255;
    }
    body = new Uint8Array(20 + l4.length);
    body.set(h); body.set(l4, 20);
    type = 0x0800;
  } else {
    body = s.payload ?? new Uint8Array(0);
    type = s.ethertype ?? 0x88b5; // IEEE local experimental
  }
  parts.push(type >> 8, type & 255, ...body);
  while (parts.length < (s.minLen ?? 60)) parts.push(0);
  return Uint8Array.from(parts);
}

/** The outermost VLAN id of a frame, or undefined when untagged. */
export function vlanOf(f: Uint8Array): number | undefined {
  const t = (f[12] << 8) | f[13];
  return t === 0x8100 || t === 0x88a8 ? ((f[14] << 8) | f[15]) & 0xfff : undefined;
}

/** Number of 802.1Q/802.1ad tags of a frame. */
export function vlanDepth(f: Uint8Array): number {
  let n = 0;
  for (let o = 12; o + 4 <= f.length; o += 4) {
    const t = (f[o] << 8) | f[o + 1];
    if (t !== 0x8100 && t !== 0x88a8) break;
    n++;
  }
  return n;
}
