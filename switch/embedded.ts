/**
 * The switch as one piece: the OpenFlow agent on the C DPDK datapath. Used by
 * `nfvnode switch --config FILE`, and in-process (embedded mode) by `nfvnode start`, the
 * replay tool and tests, with the controller in the same process or elsewhere.
 */
import { OfswDatapath } from './bindings.js';
import { DpdkBackend } from './agent/dpdk-backend.js';
import { startAgent, type RunningAgent, type AgentConfig, type AgentConfigInput } from './agent/index.js';
import { agentConfig } from './agent/config.js';
import type { Backend } from './agent/backend.js';
import type { Logger } from '../controller/log.js';

/** The C datapath of `backend: { kind: dpdk }` with the configured ports, not started. */
export function createDpdkDatapath(cfg: AgentConfig): OfswDatapath {
  const b = cfg.backend;
  if (b.kind !== 'dpdk') throw new Error(`backend ${b.kind} is not the DPDK datapath`);
  const dp = OfswDatapath.create({
    ealArgs: b.eal_args, workers: b.workers, tables: cfg.tables, selectHash: cfg.select_hash,
    packetMemory: b.packet_memory,
    ...(b.mbufs !== undefined ? { mbufs: b.mbufs } : {}),
    ...(b.pktin_ring !== undefined ? { pktinRing: b.pktin_ring } : {}),
    ...(b.mfc_entries !== undefined ? { mfcEntries: b.mfc_entries } : {}),
  });
  try {
    for (const p of cfg.ports) dp.addPort({ devargs: p.devargs!, portNo: p.port_no, ...(p.name ? { name: p.name } : {}) });
  } catch (e) {
    dp.destroy();
    throw e;
  }
  return dp;
}

/** The C datapath for `backend: { kind: dpdk }`, with the configured ports, forwarding. */
export function createDpdkBackend(cfg: AgentConfig): Backend {
  return new DpdkBackend(createDpdkDatapath(cfg), { nTables: cfg.tables, start: true, destroyOnClose: true });
}

/** Start the switch (agent + DPDK datapath, or the oracle backend when configured). */
export function startSwitch(config: AgentConfigInput | AgentConfig, log?: Logger): Promise<RunningAgent> {
  return startAgent(agentConfig(config), { createBackend: createDpdkBackend, ...(log ? { log } : {}) });
}
