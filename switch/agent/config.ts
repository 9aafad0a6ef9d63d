/**
 * Switch configuration (YAML or an object), validated with zod:
 *
 * ```yaml
 * datapath_id: "0x1"                         # 0x… hex or decimal
 * controllers: [ "tcp:127.0.0.1:6653", "ptcp:6634:127.0.0.1" ]
 * tables: 64                                 # flow tables (1..255)
 * backend: { kind: dpdk, eal_args: "--no-huge --no-pci -m 512", workers: 1 }   # or { kind: oracle }
 *                                            # (also mbufs, pktin_ring, mfc_entries, packet_memory)
 * ports:
 *   - { port_no: 1, name: subscriber, devargs: "net_af_packet0,iface=veth0" }
 *   - { port_no: 2, name: uplink, devargs: "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap" }
 * tls: { cert: sw.pem, key: sw.key, ca: ca.pem }    # for tls:/ptls: controllers
 * desc: { dp_desc: "lab switch 1" }
 * echo_interval_ms: 5000
 * dead_after_ms: 15000
 * select_hash: symmetric_l2l4                # or symmetric_l3l4 (NSOD's select policy)
 * ```
 *
 * A bad file is refused with `FILE:LINE: field: reason`. Relative paths (TLS files, pcap
 * files inside devargs are left alone) are relative to the file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseYamlConfig } from '../../controller/yaml.js';
import { z } from 'zod';
import { parseControllerTarget } from './transport.js';
import { SELECT_HASH_KINDS } from './oracle/pipeline.js';

/** backend.packet_memory (ofsw_SwitchParams.packet_memory) */
export const PACKET_MEMORY_KINDS = ['auto', 'eal'] as const;
export type PacketMemoryKind = (typeof PACKET_MEMORY_KINDS)[number];

/**
 * ofp_switch_features.datapath_id is 64 bits (OpenFlow 1.3.5 §7.3.1). A YAML number above
 * 2^53 has already lost digits when it is read, so those must be written as strings.
 */
const DPID_FORM = 'a datapath id: 0x… hex (up to 16 digits) or decimal, below 2^64';
const dpid = z.union([
  z.string().regex(/^(0x[0-9a-fA-F]{1,16}|\d{1,20})$/, DPID_FORM),
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER, 'a datapath id above 2^53 must be written as a string ("0x…")'),
], { errorMap: (_issue, ctx) => ({ message: ctx.data === undefined ? `required: ${DPID_FORM}` : DPID_FORM }) })
  .transform((v) => BigInt(v))
  .refine((v) => v <= 0xffffffffffffffffn, DPID_FORM);
const target = z.string().superRefine((s, ctx) => {
  try { parseControllerTarget(s); } catch (e) { ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message }); }
});

export const AgentConfigSchema = z.object({
  datapath_id: dpid,
  /** controllers to dial (tcp:, tls:) and listening endpoints (ptcp:, ptls:) */
  controllers: z.array(target).default([]),
  tables: z.number().int().min(1).max(255).default(64),
  backend: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('oracle') }).strict(),
    z.object({
      kind: z.literal('dpdk'),
      eal_args: z.string().default('--no-huge --no-pci -m 512'),
      workers: z.number().int().min(1).max(64).default(1),
      mbufs: z.number().int().min(0).optional(),
      pktin_ring: z.number().int().min(0).optional(),
      mfc_entries: z.number().int().min(0).optional(),
      /**
       * Where the packet pool lives: auto (the EAL's hugepages, or without them — --no-huge —
       * transparent huge pages of the switch's own) or eal (always the EAL's memory).
       * switch/src/pktmem.h says why.
       */
      packet_memory: z.enum(PACKET_MEMORY_KINDS).default('auto'),
    }).strict(),
  ]).default({ kind: 'dpdk' }),
  ports: z.array(z.object({
    port_no: z.number().int().min(1).max(0xffffff00),
    name: z.string().max(15).optional(),
    /** DPDK device arguments (dpdk backend) */
    devargs: z.string().optional(),
    /** MAC address (oracle backend; the dpdk backend reads the device's) */
    hw_addr: z.string().regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, 'aa:bb:cc:dd:ee:ff').optional(),
  }).strict()).default([]),
  tls: z.object({ cert: z.string(), key: z.string(), ca: z.string() }).strict().optional(),
  desc: z.object({
    mfr_desc: z.string().max(255).optional(), hw_desc: z.string().max(255).optional(), sw_desc: z.string().max(255).optional(),
    serial_num: z.string().max(31).optional(), dp_desc: z.string().max(255).optional(),
  }).strict().optional(),
  echo_interval_ms: z.number().int().min(100).default(5000),
  dead_after_ms: z.number().int().min(300).default(15000),
  /**
   * What select groups hash, both symmetric: symmetric_l2l4 (Ethernet addresses and type,
   * then IP/ARP addresses, IP protocol, ports) or symmetric_l3l4 (IP packets: addresses,
   * protocol and ports only; for docs/nsod.md's select policy). Key: selectHash in
   * oracle/pipeline.ts.
   */
  select_hash: z.enum(SELECT_HASH_KINDS).default('symmetric_l2l4'),
  /** OFPFMFC_TABLE_FULL beyond this many entries in one table */
  max_entries: z.number().int().min(1).optional(),
}).strict().superRefine((c, ctx) => {
  if (c.backend.kind === 'dpdk' && c.tables < 64) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['tables'], message: 'the dpdk datapath has 64 to 255 tables' });
  const seen = new Set<number>();
  c.ports.forEach((p, i) => {
    if (seen.has(p.port_no)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['ports', i, 'port_no'], message: `port ${p.port_no} appears twice` });
    seen.add(p.port_no);
    if (c.backend.kind === 'dpdk' && !p.devargs) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['ports', i, 'devargs'], message: 'the dpdk backend needs devargs for every port' });
  });
});

/** The configuration as written (before defaults); a datapath id may also be a bigint. */
export type AgentConfigInput = Omit<z.input<typeof AgentConfigSchema>, 'datapath_id'> & { readonly datapath_id: string | number | bigint };
export type AgentConfig = z.output<typeof AgentConfigSchema>;

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}


/** Validate a configuration object (defaults applied). */
export function agentConfig(input: AgentConfigInput | AgentConfig): AgentConfig {
  const r = AgentConfigSchema.safeParse(typeof input.datapath_id === 'bigint' ? { ...input, datapath_id: `0x${input.datapath_id.toString(16)}` } : input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new AgentConfigError(`${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return r.data;
}

/** Parse and validate YAML; relative TLS paths become relative to the file's folder. */
export function parseAgentConfig(text: string, file = '<config>'): AgentConfig {
  const cfg = parseYamlConfig(text, file, AgentConfigSchema, (m) => new AgentConfigError(m));
  const dir = path.dirname(file);
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.join(dir, p));
  return cfg.tls ? { ...cfg, tls: { cert: abs(cfg.tls.cert), key: abs(cfg.tls.key), ca: abs(cfg.tls.ca) } } : cfg;
}

export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new AgentConfigError(`${file}: ${(e as Error).message}`); }
  return parseAgentConfig(text, file);
}
