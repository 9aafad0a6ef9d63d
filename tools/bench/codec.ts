/**
 * Benchmark `codec`: OpenFlow 1.3 decode/encode rates on one core, and os-ken's parser on the
 * same bytes in the same run (tools/bench/oskn_codec.py, Debian's python3-os-ken).
 *
 * Messages: FLOW_MOD with 5 OXM fields and 3 actions; PACKET_IN carrying a 64-byte frame; a
 * MULTIPART_REPLY/FLOW with 100 flow-stats entries.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode, type Message, type Msg } from '../../controller/of13/index.js';
import { rate, type BenchArgs } from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');

const match5 = [
  { field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: '10.1.2.3' },
  { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 5060 },
] as const;

export const flowMod: Msg<'FLOW_MOD'> = {
  type: 'FLOW_MOD', xid: 1, cookie: 0x1234n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 0,
  hard_timeout: 0, priority: 100, buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0,
  match: match5,
  instructions: [{
    type: 'APPLY_ACTIONS',
    actions: [
      { type: 'PUSH_VLAN', ethertype: 0x8100 },
      { type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | 10 } },
      { type: 'OUTPUT', port: 2, max_len: 0 },
    ],
  }],
};

/** A 64-byte Ethernet/IPv4/UDP frame. */
const frame = new Uint8Array(64).map((_, i) => i);
frame.set([0x08, 0x00], 12);
export const packetIn: Msg<'PACKET_IN'> = {
  type: 'PACKET_IN', xid: 0, buffer_id: 0xffffffff, total_len: 64, reason: 0, table_id: 0, cookie: 0n,
  match: [{ field: 'in_port', value: 3 }], data: frame,
};

export const flowStatsReply: Msg<'MULTIPART_REPLY'> = {
  type: 'MULTIPART_REPLY', xid: 9, mp_type: 'FLOW', flags: 0,
  body: Array.from({ length: 100 }, (_, i) => ({
    table_id: 1, duration_sec: i, duration_nsec: 1000 * i, priority: 1000 + i, idle_timeout: 0, hard_timeout: 0,
    flags: 0, cookie: BigInt(i), packet_count: BigInt(i * 10), byte_count: BigInt(i * 640),
    match: [{ field: 'in_port', value: 1 + (i % 4) }, { field: 'vlan_vid', value: 0x1000 | i }],
    instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | (i + 100) } }, { type: 'OUTPUT', port: 5, max_len: 0 }] }],
  })),
} as Msg<'MULTIPART_REPLY'>;

const CASES: [string, Message][] = [['flow_mod', flowMod], ['packet_in', packetIn], ['flow_stats_reply', flowStatsReply]];

interface OsKen { oskn: Record<string, { decode_per_s: number; encode_per_s: number | null }> }

function runOsKen(files: Record<string, string>, seconds: number): OsKen | { error: string } {
  const args = [path.join(root, 'tools/bench/oskn_codec.py'), '--seconds', String(seconds), '--encode'];
  for (const f of Object.values(files)) args.push('--input', f);
  const r = spawnSync('python3', args, { encoding: 'utf8', timeout: 120_000 });
  const last = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) return { error: `os-ken run failed (status ${r.status}): ${(r.stderr ?? '').trim().split('\n').pop()}` };
  return JSON.parse(last) as OsKen;
}

export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const seconds = args.quick ? 0.5 : 2;
  const out: Record<string, unknown> = { bench: 'codec' };
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-codec-'));
  const files: Record<string, string> = {};
  try {
    for (const [name, msg] of CASES) {
      const bytes = encode(msg);
      files[name] = path.join(dir, `${name}.packet`);
      writeFileSync(files[name], bytes);
      // Sanity: what we measure round-trips.
      if (Buffer.compare(Buffer.from(encode(decode(bytes))), Buffer.from(bytes)) !== 0) throw new Error(`${name} does not round-trip`);
      out[`${name}_bytes`] = bytes.length;
      out[`${name}_decode_per_s`] = Math.round(rate(() => decode(bytes), seconds));
      out[`${name}_encode_per_s`] = Math.round(rate(() => encode(msg), seconds));
      const into = Buffer.alloc(bytes.length);
      out[`${name}_encode_into_per_s`] = Math.round(rate(() => encode(msg, into, 0), seconds));
    }
    const osk = runOsKen(files, seconds);
    if ('error' in osk) {
      out.oskn_error = osk.error;
    } else {
      for (const [name] of CASES) {
        const r = osk.oskn[path.basename(files[name])];
        out[`oskn_${name}_decode_per_s`] = r?.decode_per_s ?? null;
        out[`oskn_${name}_encode_per_s`] = r?.encode_per_s ?? null;
        if (r?.decode_per_s) out[`ratio_${name}_decode_vs_oskn`] = +((out[`${name}_decode_per_s`] as number) / r.decode_per_s).toFixed(1);
        if (r?.encode_per_s) out[`ratio_${name}_encode_vs_oskn`] = +((out[`${name}_encode_per_s`] as number) / r.encode_per_s).toFixed(1);
      }
      out.oskn_flow_mod_decode_per_s = out.oskn_flow_mod_decode_per_s ?? null;
      out.ratio_vs_oskn = out.ratio_flow_mod_decode_vs_oskn ?? null;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const human = `codec: FLOW_MOD decode ${fmt(out.flow_mod_decode_per_s)}/s encode ${fmt(out.flow_mod_encode_per_s)}/s; ` +
    `PACKET_IN decode ${fmt(out.packet_in_decode_per_s)}/s; 100-flow reply decode ${fmt(out.flow_stats_reply_decode_per_s)}/s; ` +
    (out.oskn_error ? `os-ken: ${out.oskn_error}` : `os-ken FLOW_MOD decode ${fmt(out.oskn_flow_mod_decode_per_s)}/s (×${out.ratio_vs_oskn})`);
  console.log(human);
  return out;
}

function fmt(n: unknown): string { return typeof n === 'number' ? n.toLocaleString('en-US') : String(n); }
