/**
 * A controller process: store, runtime, apps, listener and active connections, from a
 * Config. `nfvnode controller --config FILE` runs one; tests start it the same way.
 */
import { Store } from './store/store.js';
import { Runtime } from './runtime/runtime.js';
import { listen, connectActive, parseTarget, type Listener } from './channel/listener.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { proactiveApp } from '../apps/proactive/app.js';
import { learningApp } from '../apps/learning/app.js';
import { Nsod } from '../apps/nsod/nsod.js';
import { nsodApp } from '../apps/nsod/app.js';
import { loadTopology } from './topology/loader.js';
import { startApi } from './api/server.js';

export interface RunningController {
  readonly runtime: Runtime;
  readonly store: Store;
  readonly listener: Listener | null;
  readonly nsod: Nsod;
  readonly api: Awaited<ReturnType<typeof startApi>> | null;
  stop(): Promise<void>;
}

export async function startController(cfg: Config, log: Logger): Promise<RunningController> {
  const store = new Store(cfg.store);
  const runtime = new Runtime({
    store, log, role: cfg.role, leaseTtl: cfg.lease_ttl_ms,
    channel: { echoInterval: cfg.echo_interval_ms, deadAfter: cfg.dead_after_ms },
  });
  runtime.register(proactiveApp, {
    switches: cfg.switches.map((s) => ({
      dpid: s.dpid,
      patches: s.patches,
      ...(s.service_tables ? { serviceTables: s.service_tables } : {}),
    })),
  });
  const nsod = new Nsod(store);
  if (cfg.topology) nsod.applyTopology(loadTopology(cfg.topology));
  runtime.register(nsodApp, { nsod });
  if (cfg.apps.learning) runtime.register(learningApp, { maxMacs: cfg.apps.learning.max_macs });
  const accept = (s: import('node:net').Socket) => { void runtime.accept(s); };
  const listener = cfg.listen ? await listen(cfg.listen, accept, log) : null;
  const active = cfg.connect.map((t) => connectActive(parseTarget(t), accept, log, cfg.listen?.tls));
  const api = cfg.api
    ? await startApi({ runtime, store, nsod, log: log.child({ part: 'api' }), host: cfg.api.host, port: cfg.api.port, token: cfg.api.token ?? process.env.NFVNODE_API_TOKEN })
    : null;
  return {
    runtime, store, listener, nsod, api,
    async stop() {
      await api?.stop();
      for (const a of active) a.stop();
      await runtime.stop();
      await listener?.close();
      store.close();
    },
  };
}
