/**
 * The switch agent: `startAgent(config)` runs one OpenFlow 1.3 switch — its datapath
 * (backend), its tables, and its controller connections — until `stop()`.
 *
 * ```ts
 * const sw = await startAgent({
 *   datapath_id: '0x1', controllers: ['tcp:127.0.0.1:6653'], backend: { kind: 'oracle' },
 *   ports: [{ port_no: 1 }, { port_no: 2 }],
 * });
 * (sw.backend as OracleBackend).port(1).inject(frame);
 * await sw.stop();
 * ```
 */
import type { Socket } from 'node:net';
import { silentLogger, type Logger } from '../../controller/log.js';
import { Agent, type AgentOptions } from './agent.js';
import { agentConfig, type AgentConfig, type AgentConfigInput } from './config.js';
import { OracleBackend } from './oracle-backend.js';
import { brasActionValid } from './oracle/bras.js';
import { openEndpoint, type Endpoint } from './transport.js';
import type { Backend } from './backend.js';

export { Agent, CAPABILITIES, type AgentOptions, type SwitchDesc } from './agent.js';
export { Session, defaultAsyncConfig, type AsyncConfig } from './session.js';
export { OracleBackend, OraclePort, type OracleBackendOptions, type OraclePortOptions } from './oracle-backend.js';
export { agentConfig, parseAgentConfig, loadAgentConfig, AgentConfigError, type AgentConfig, type AgentConfigInput } from './config.js';
export { parseControllerTarget, type ControllerTarget } from './transport.js';
export type * from './backend.js';

export interface StartAgentOptions {
  /** use this backend instead of making one from `config.backend` (it is not closed by stop) */
  readonly backend?: Backend;
  /** make the backend for `backend: { kind: dpdk }` (the C datapath binding) */
  readonly createBackend?: (config: AgentConfig) => Backend | Promise<Backend>;
  readonly log?: Logger;
  readonly clock?: () => bigint;
  /** further agent options (poll and expiry intervals, reply size …) */
  readonly agent?: Partial<Omit<AgentOptions, 'datapathId' | 'backend' | 'log' | 'clock'>>;
}

export interface RunningAgent {
  readonly agent: Agent;
  readonly backend: Backend;
  readonly config: AgentConfig;
  /** one per entry of `config.controllers`, in order; passive ones have their bound address */
  readonly endpoints: readonly Endpoint[];
  /** bound port of the first passive endpoint (`ptcp:0` picks a free one) */
  readonly listenPort: number | undefined;
  stop(): Promise<void>;
}

/** Start a switch from its configuration. */
export async function startAgent(config: AgentConfigInput | AgentConfig, opts: StartAgentOptions = {}): Promise<RunningAgent> {
  const cfg = agentConfig(config);
  const log = opts.log ?? silentLogger;
  const clock = opts.clock ?? (() => process.hrtime.bigint());
  let backend = opts.backend;
  const ownBackend = !backend;
  if (!backend) {
    if (cfg.backend.kind === 'oracle') {
      backend = new OracleBackend({
        nTables: cfg.tables, clock, selectHash: cfg.select_hash,
        ports: cfg.ports.map((p) => ({ port_no: p.port_no, ...(p.name ? { name: p.name } : {}), ...(p.hw_addr ? { hw_addr: p.hw_addr.toLowerCase() } : {}) })),
      });
    } else {
      if (!opts.createBackend) throw new Error('backend kind dpdk: no createBackend given (the C datapath binding makes it)');
      backend = await opts.createBackend(cfg);
    }
  }
  const agent = new Agent({
    datapathId: cfg.datapath_id, backend, log, clock,
    desc: cfg.desc ?? {},
    session: { echoIntervalMs: cfg.echo_interval_ms, deadAfterMs: cfg.dead_after_ms },
    ...(cfg.max_entries !== undefined ? { maxEntries: cfg.max_entries } : {}),
    ...opts.agent,
    // nfvnode's BRAS actions (docs/openflow-extensions.md) are part of this switch.
    validation: { experimenterAction: brasActionValid, ...opts.agent?.validation },
  }).start();
  const endpoints: Endpoint[] = [];
  const onSocket = (s: Socket, origin: string) => { agent.accept(s, origin); };
  try {
    for (const t of cfg.controllers) endpoints.push(await openEndpoint(t, onSocket, log, cfg.tls));
  } catch (e) {
    for (const ep of endpoints) await ep.close();
    await agent.stop();
    if (ownBackend) await backend.close();
    throw e;
  }
  log.info({ dpid: `0x${cfg.datapath_id.toString(16)}`, controllers: cfg.controllers, ports: backend.ports().map((p) => p.port_no) }, 'switch agent started');
  let stopped = false;
  const b = backend;
  return {
    agent, backend, config: cfg, endpoints,
    listenPort: endpoints.find((e) => e.address)?.address?.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const ep of endpoints) await ep.close();
      await agent.stop();
      if (ownBackend) await b.close();
    },
  };
}
