/**
 * `npm run bench -- NAME [--quick]`: runs one benchmark; prints a human line, then as the
 * last line one JSON object with the figures the issue names.
 */
import { run as codec } from './codec.js';
import { run as packetIn } from './packet_in.js';
import { run as flowInstall } from './flow_install.js';
import { runNsodBench } from './nsod.js';
import type { BenchArgs } from './util.js';

const BENCHES: Record<string, { about: string; run: (a: BenchArgs) => Promise<Record<string, unknown>> }> = {
  codec: { about: 'OpenFlow 1.3 decode/encode rates (FLOW_MOD, PACKET_IN, 100-flow reply) vs os-ken', run: codec },
  'flow-install': { about: '100,000 flows into Open vSwitch, barrier-confirmed, vs ovs-ofctl (plain, --bundle) and os-ken', run: flowInstall },
  nsod: { about: 'NSOD: rebalance of 100,000 subscribers when an NF instance is added, on Open vSwitch', run: runNsodBench },
  'packet-in': { about: 'controller packet-in → packet-out rate and latency (cbench-like fake switches)', run: packetIn },
};

function usage(): string {
  return `usage: npm run bench -- NAME [--quick]\n\n  --quick   finish in under 30 s\n\nbenchmarks:\n` +
    Object.entries(BENCHES).map(([k, v]) => `  ${k.padEnd(14)} ${v.about}`).join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { console.log(usage()); return 0; }
  const name = argv.find((a) => !a.startsWith('-'));
  const bench = name ? BENCHES[name] : undefined;
  if (!bench) { console.error(name ? `unknown benchmark: ${name}\n` : 'no benchmark named\n'); console.error(usage()); return 2; }
  const result = await bench.run({ quick: argv.includes('--quick'), rest: argv.filter((a) => a !== name) });
  console.log(JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
