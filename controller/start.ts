/**
 * `nfvnode start`: the node on its embedded default set-up. Until the DPDK switch (issue 4)
 * can be embedded, the switch it serves is a private Open vSwitch (userspace datapath,
 * tools/lab/ovs.ts) with two ports patched together and the table-0 service classifier; the
 * controller is the real runtime with its SQLite store. It prints what it installed and
 * keeps running until SIGINT/SIGTERM, then stops everything it started.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startController } from './controller.js';
import { parseConfig } from './config.js';
import { createLogger } from './log.js';
import { startOvs, freePort } from '../tools/lab/ovs.js';

const DEFAULT_DPID = 0x1n;

export async function startNode(opts: { stateDir: string; port?: number; once?: boolean }): Promise<number> {
  mkdirSync(opts.stateDir, { recursive: true });
  const port = opts.port ?? await freePort();
  const cfg = parseConfig(
    `listen: { host: 127.0.0.1, port: ${port} }\nstore: nfvnode.db\napps: { learning: {} }\n` +
    `switches:\n  - dpid: "0x${DEFAULT_DPID.toString(16)}"\n    patches: [[1, 2]]\n    service_tables: { bras: 10, sip: 20 }\n`,
    path.join(opts.stateDir, 'default.yaml'),
  );
  const log = createLogger('nfvnode', process.env.NFVNODE_LOG ?? 'warn');
  console.log(`nfvnode: controller on 127.0.0.1:${port}, desired state in ${cfg.store}`);
  const ctl = await startController(cfg, log);
  let ovs: Awaited<ReturnType<typeof startOvs>> | null = null;
  try {
    const reconciled = new Promise<Record<string, number>>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the switch did not become ready within 20 s')), 20_000);
      const sub = ctl.runtime.reconciled$.subscribe(({ report }) => { clearTimeout(t); sub.unsubscribe(); resolve(report as unknown as Record<string, number>); });
    });
    ovs = await startOvs({ name: 'nfvnode-start' });
    await ovs.addBridge('br-nfv', { dpid: DEFAULT_DPID, controllers: [`tcp:127.0.0.1:${port}`], ports: ['subscriber', 'uplink'] });
    const report = await reconciled;
    console.log(`nfvnode: switch 0x${DEFAULT_DPID.toString(16).padStart(16, '0')} (Open vSwitch, userspace datapath) connected and reconciled: ` +
      `${report.flowsAdded} flows added, ${report.flowsUnchanged} unchanged, ${report.flowsDeleted} strays removed`);
    for (const f of await ovs.dumpFlows('br-nfv')) console.log(`  ${f.text}`);
    if (opts.once) return 0;
    console.log('nfvnode: running; Ctrl-C stops it');
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
    return 0;
  } finally {
    await ovs?.stop();
    await ctl.stop();
  }
}
