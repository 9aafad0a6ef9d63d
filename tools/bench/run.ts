/**
 * `npm run bench -- NAME [--quick]`: runs one benchmark; prints a human line, then as the
 * last line one JSON object with the figures the issue names.
 */
import type { BenchArgs } from './util.js';

type Run = (a: BenchArgs) => Promise<Record<string, unknown>>;
/**
 * Benchmarks are loaded only when run: one benchmark's module-level values (codec samples
 * and the like) must not shape the JIT state another one measures.
 */
const BENCHES: Record<string, { about: string; load: () => Promise<Run> }> = {
  codec: { about: 'OpenFlow 1.3 decode/encode rates (FLOW_MOD, PACKET_IN, 100-flow reply) vs os-ken', load: async () => (await import('./codec.js')).run },
  'flow-install': { about: '100,000 flows into Open vSwitch, barrier-confirmed, vs ovs-ofctl (plain, --bundle) and os-ken; --rounds N: N alternating rounds against --bundle, medians; --no-peers: nfvnode only', load: async () => (await import('./flow_install.js')).run },
  nsod: { about: 'NSOD: rebalance of 100,000 subscribers when an NF instance is added, on Open vSwitch', load: async () => (await import('./nsod.js')).runNsodBench },
  datapath: { about: 'DPDK datapath Mpps (1/1,000/100,000 flows; NSOD and 4-table pipelines) vs testpmd io and OVS-DPDK', load: async () => (await import('./datapath.js')).run },
  'flow-mod': { about: 'flows/s through the switch agent into a table of 1,000,000 flows, bytes per flow', load: async () => (await import('./flow_mod.js')).run },
  'packet-in': { about: 'controller packet-in → packet-out rate and latency (cbench-like fake switches)', load: async () => (await import('./packet_in.js')).run },
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
  const run = await bench.load();
  const result = await run({ quick: argv.includes('--quick'), rest: argv.filter((a) => a !== name) });
  console.log(JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
