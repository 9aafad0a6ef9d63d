/**
 * The `nfvnode` command line. Each subcommand answers `--help`.
 * Subcommands grow as the issues land: controller, switch, lab, replay.
 */
import { readFileSync } from 'node:fs';
import { decode, format, Framer, OfpError } from './of13/index.js';
import { loadConfig, ConfigError } from './config.js';
import { createLogger } from './log.js';
import { startController } from './controller.js';
import { startNode } from './start.js';
import { labCmd } from '../tools/lab/lab.js';
import { replayCmd } from '../tools/replay/replay.js';
import { startSwitch } from '../switch/embedded.js';
import { loadAgentConfig, AgentConfigError } from '../switch/agent/config.js';

const VERSION = '0.1.0';

const HELP = `nfvnode ${VERSION} — NFV-enabled carrier network node (OpenFlow 1.3 controller, DPDK switch, vBRAS, NSOD)

usage: nfvnode COMMAND [options]

commands:
  controller --config FILE   run the OpenFlow controller
  switch --config FILE       run the OpenFlow switch (DPDK datapath + agent)
  lab up|down|status FILE    bring a topology up on this host (namespaces, veths, controller, switch, peers)
  replay --topology FILE --in PORT=PCAP … --out DIR
                             the real datapath with the topology's flows over captures
  start                 run the node on its embedded default set-up (controller + switch)
  decode FILE|HEX ...   decode OpenFlow 1.3 messages (raw bytes, or hex) and print one line each
  version               print the version

Run 'nfvnode COMMAND --help' for a command's options.`;

const DECODE_HELP = `usage: nfvnode decode [--json] FILE|HEX ...

Decodes OpenFlow 1.3 messages and prints each on one line (ovs-ofctl-like).
An argument that names an existing file is read as raw bytes (a TCP stream of one or more
messages); otherwise it is taken as hex ("04 0e 00 08 …", spaces optional).

  --json   print each message as JSON instead (64-bit values as strings, bytes as hex)

Exit status: 0 when every message decoded, 1 when one did not (the OpenFlow error a switch
would send back is printed), 2 on usage errors.`;

const CONTROLLER_HELP = `usage: nfvnode controller --config FILE

Runs the OpenFlow 1.3 controller: listens for switches (and/or connects to listening ones),
keeps their flows equal to the desired state held in the SQLite store, and runs the apps.
The configuration (YAML) is described in docs/controller.md. Logs are JSON lines on stderr
(NFVNODE_LOG=debug|info|warn|error). SIGINT/SIGTERM stop it cleanly; SIGHUP reconciles every
connected switch with the desired state at once.`;

/**
 * The first argument that is not one of `valued` (followed by its value) or `flags`, as an
 * error text; null when all are known. A mistyped option is named, not silently ignored.
 */
function unknownArg(args: readonly string[], valued: readonly string[], flags: readonly string[] = []): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (valued.includes(a)) {
      if (i + 1 >= args.length) return `${a} needs a value`;
      i++;
    } else if (!flags.includes(a)) {
      return a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`;
    }
  }
  return null;
}

async function controllerCmd(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { console.log(CONTROLLER_HELP); return 0; }
  const bad = unknownArg(args, ['--config']);
  if (bad) { console.error(`nfvnode controller: ${bad}\n\n${CONTROLLER_HELP}`); return 2; }
  const i = args.indexOf('--config');
  const file = i >= 0 ? args[i + 1] : undefined;
  if (!file) { console.error(CONTROLLER_HELP); return 2; }
  let cfg;
  try { cfg = loadConfig(file); } catch (e) {
    if (e instanceof ConfigError) { console.error(`nfvnode controller: ${e.message}`); return 2; }
    throw e;
  }
  const log = createLogger('controller');
  const ctl = await startController(cfg, log);
  // SIGHUP: reconcile every connected switch now (strays removed, missing flows added).
  process.on('SIGHUP', () => {
    for (const dp of ctl.runtime.datapaths.values()) {
      if (dp.conn && ctl.runtime.isMaster) void ctl.runtime.reconcile(dp).catch((e) => log.error({ dpid: dp.id, err: (e as Error).message }, 'reconcile failed'));
    }
  });
  await new Promise<void>((resolve) => {
    const stop = () => { log.info('stopping'); void ctl.stop().then(resolve); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

const SWITCH_HELP = `usage: nfvnode switch --config FILE

Runs the userspace OpenFlow 1.3 switch: the C fast path on DPDK (ports from DPDK device
strings: net_pcap, net_af_packet on veth, net_tap, net_ring, net_vhost, net_memif, net_null,
PCI addresses) and the OpenFlow agent, which connects to controllers (tcp:HOST:PORT, tls:…)
and/or listens for them (ptcp:PORT[:HOST]). EAL runs with --no-huge --no-pci by default.

  datapath_id: "0x1"
  controllers: [ "tcp:127.0.0.1:6653" ]
  backend: { kind: dpdk, eal_args: "--no-huge --no-pci -m 512", workers: 1 }
  ports:
    - { port_no: 1, name: subscriber, devargs: "net_af_packet0,iface=veth-sub" }
    - { port_no: 2, name: uplink, devargs: "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap" }

Also: tables (64..255), tls {cert,key,ca}, desc, echo_interval_ms, dead_after_ms.
The BRAS extensions (docs/openflow-extensions.md) are always on. SIGINT/SIGTERM stop it.`;

async function switchCmd(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { console.log(SWITCH_HELP); return 0; }
  const bad = unknownArg(args, ['--config']);
  if (bad) { console.error(`nfvnode switch: ${bad}\n\n${SWITCH_HELP}`); return 2; }
  const i = args.indexOf('--config');
  const file = i >= 0 ? args[i + 1] : undefined;
  if (!file) { console.error(SWITCH_HELP); return 2; }
  let cfg;
  try { cfg = loadAgentConfig(file); } catch (e) {
    if (e instanceof AgentConfigError) { console.error(`nfvnode switch: ${e.message}`); return 2; }
    throw e;
  }
  const log = createLogger('switch');
  let sw;
  try { sw = await startSwitch(cfg, log); } catch (e) {
    console.error(`nfvnode switch: ${(e as Error).message}`);
    return 1;
  }
  log.info({ dpid: '0x' + cfg.datapath_id.toString(16), ports: cfg.ports.length, controllers: cfg.controllers }, 'switch running');
  await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
  await sw.stop();
  return 0;
}

const START_HELP = `usage: nfvnode start [--once] [--topology FILE] [--port N] [--api-port N] [--state DIR]

Runs the node on its embedded default topology (topologies/default.yaml):
 1. generates traffic from every client VLAN of the topology's subscriber pools and replays
    it through the real DPDK datapath with the flows the controller installs (table-0
    classifier, NSOD VLAN rewrite towards the network-function instances), then prints what
    left by which port (captures in STATE/out);
 2. keeps the node running: controller (SQLite store, apps, REST API) and the embedded
    switch (OpenFlow agent on the DPDK datapath, in this process), until Ctrl-C.

  --once          stop after step 1
  --topology F    another topology file
  --port N        controller port (default: a free one)
  --api-port N    REST API port (default 8080; changes need NFVNODE_API_TOKEN)
  --state DIR     store, captures and outputs (default: ./var)`;

function bytesOf(arg: string): Uint8Array {
  try {
    return readFileSync(arg);
  } catch {
    const hex = arg.replace(/[\s:]/g, '');
    if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new Error(`'${arg}' is neither a readable file nor hex bytes`);
    return Buffer.from(hex, 'hex');
  }
}

function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));
}

function decodeCmd(args: string[]): number {
  if (args.includes('--help') || args.includes('-h')) { console.log(DECODE_HELP); return 0; }
  const json = args.includes('--json');
  const inputs = args.filter((a) => a !== '--json');
  if (!inputs.length) { console.error(DECODE_HELP); return 2; }
  // All arguments form one byte stream, in order: a message may span several hex arguments.
  const parts: Uint8Array[] = [];
  for (const arg of inputs) {
    try { parts.push(bytesOf(arg)); } catch (e) { console.error(`nfvnode decode: ${(e as Error).message}`); return 2; }
  }
  let status = 0;
  const framer = new Framer();
  try {
    for (const m of framer.push(Buffer.concat(parts))) {
      try {
        const msg = decode(m);
        console.log(json ? toJson(msg) : format(msg));
      } catch (e) {
        if (!(e instanceof OfpError)) throw e;
        console.log(`error: ${e.message}`);
        status = 1;
      }
    }
    if (framer.buffered) { console.log(`error: ${framer.buffered} trailing bytes do not make a whole message`); status = 1; }
  } catch (e) {
    if (!(e instanceof OfpError)) throw e;
    console.log(`error: ${e.message}`);
    status = 1;
  }
  return status;
}

async function startCmd(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { console.log(START_HELP); return 0; }
  const bad = unknownArg(args, ['--state', '--port', '--api-port', '--topology'], ['--once']);
  if (bad) { console.error(`nfvnode start: ${bad}\n\n${START_HELP}`); return 2; }
  const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const num = (name: string) => {
    const v = opt(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(Number.isInteger(n) && n > 0 && n < 65536)) throw new Error(`bad ${name} ${v}`);
    return n;
  };
  let port, apiPort;
  try { port = num('--port'); apiPort = num('--api-port'); } catch (e) { console.error(`nfvnode start: ${(e as Error).message}\n\n${START_HELP}`); return 2; }
  try {
    return await startNode({ stateDir: opt('--state') ?? 'var', port, apiPort, once: args.includes('--once'), topology: opt('--topology') });
  } catch (e) {
    console.error(`nfvnode start: ${(e as Error).message}`);
    return 1;
  }
}

export async function cli(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined: case '--help': case '-h': case 'help': console.log(HELP); return cmd === undefined ? 2 : 0;
    case 'version': case '--version': console.log(VERSION); return 0;
    case 'decode': return decodeCmd(rest);
    case 'controller': return controllerCmd(rest);
    case 'switch': return switchCmd(rest);
    case 'lab': return labCmd(rest);
    case 'replay': return replayCmd(rest);
    case 'start': return startCmd(rest);
    default: console.error(`nfvnode: unknown command '${cmd}'\n\n${HELP}`); return 2;
  }
}
