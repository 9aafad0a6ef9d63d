/**
 * cbench for OpenFlow 1.3: emulate N switches against a controller, flood it with table-miss
 * PACKET_INs and measure how many FLOW_MODs/PACKET_OUTs come back, and how fast.
 *
 *   node dist/tools/bench/cbench.js --controller 127.0.0.1:6653 --switches 16 --mode throughput
 *
 * Like the original cbench (OpenFlow 1.0, oflops): each switch is a TCP connection that
 * completes the controller's handshake, then sends packet-ins whose MAC addresses cycle over
 * --macs hosts. Throughput mode keeps up to --window packet-ins outstanding per switch (and
 * honours socket back-pressure); latency mode sends one and waits for its first answer. A
 * "response" is any FLOW_MOD or PACKET_OUT. Counting starts after --warmup seconds.
 *
 * `runCbench(opts)` is the library entry (used by the packet-in benchmark); running this file
 * prints a human line, then one JSON line.
 *
 * Files: cbench/switch.ts (one fake switch), cbench/traffic.ts (packets and how answers are
 * matched to them), cbench/inflight.ts (the window), cbench/histogram.ts (latency),
 * cbench/oskn.ts (os-ken as reference controller).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OFP_TCP_PORT } from '../../controller/of13/index.js';
import { FakeSwitch, type RunState } from './cbench/switch.js';
import { LatencyHistogram } from './cbench/histogram.js';
import { Traffic } from './cbench/traffic.js';
import { startOsKen } from './cbench/oskn.js';

export type CbenchMode = 'throughput' | 'latency';

export interface CbenchOptions {
  /** "host:port" of the controller (default 127.0.0.1:6653) */
  readonly controller?: string;
  readonly switches?: number;
  readonly mode?: CbenchMode;
  /** measured seconds, after the warm-up */
  readonly seconds?: number;
  /** seconds of traffic before counting starts */
  readonly warmup?: number;
  /** hosts (MAC addresses) per switch */
  readonly macs?: number;
  /** packet-ins outstanding per switch in throughput mode */
  readonly window?: number;
  /** packet-ins carry a buffer id (as cbench does) instead of OFP_NO_BUFFER */
  readonly buffered?: boolean;
  /** ports per switch */
  readonly ports?: number;
  /** a packet-in unanswered this long counts as lost and leaves the window */
  readonly timeoutMs?: number;
  /** how long switches may take to connect, finish the handshake and get a first answer */
  readonly handshakeTimeoutMs?: number;
  /** datapath id of switch 1; switch i gets firstDatapathId + i - 1 */
  readonly firstDatapathId?: bigint;
}

export interface CbenchResult {
  readonly bench: 'cbench';
  readonly mode: CbenchMode;
  readonly switches: number;
  readonly responses_per_s: number;
  readonly latency_p50_us: number | null;
  readonly latency_p99_us: number | null;
  readonly controller: string;
  /** measured interval, s */
  readonly seconds: number;
  readonly warmup: number;
  readonly macs: number;
  readonly window: number;
  readonly buffered: boolean;
  readonly responses: number;
  readonly flow_mods: number;
  readonly packet_outs: number;
  readonly packet_ins: number;
  /** packet-ins sent and answered inside the measured interval (the latency samples) */
  readonly answered: number;
  readonly lost: number;
  /** responses/s of the slowest and the fastest switch */
  readonly per_switch_min: number;
  readonly per_switch_max: number;
  readonly latency_mean_us: number | null;
  readonly latency_max_us: number | null;
  /** switches that reached each handshake step */
  readonly handshake: { connected: number; hello: number; features: number; port_desc: number; set_config: number; running: number };
  /** what went wrong, one line each (empty when all went well) */
  readonly errors: string[];
}

/** A run that could not measure anything (bad options, controller unreachable …). */
export class CbenchError extends Error {
  override readonly name = 'CbenchError';
  /** true when the options were at fault */
  constructor(message: string, readonly usage = false) { super(message); }
}

const DEFAULTS = {
  controller: `127.0.0.1:${OFP_TCP_PORT}`, switches: 16, mode: 'throughput' as CbenchMode, seconds: 5, warmup: 1,
  macs: 1000, window: 256, buffered: false, ports: 4, timeoutMs: 3000, handshakeTimeoutMs: 5000, firstDatapathId: 1n,
};

function parseController(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(s) ?? /^()([^:]+)()$/.exec(s);
  if (!m) throw new CbenchError(`--controller: expected HOST:PORT, got ${JSON.stringify(s)}`, true);
  const port = m[3] ? Number(m[3]) : OFP_TCP_PORT;
  if (!(port > 0 && port < 65536)) throw new CbenchError(`--controller: bad port in ${JSON.stringify(s)}`, true);
  return { host: m[1] || m[2], port };
}

function check(name: string, v: number, min: number, max: number, integer = true): number {
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new CbenchError(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${v}`, true);
  }
  return v;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

/** Run the benchmark; rejects with CbenchError when no switch could be benchmarked. */
export async function runCbench(input: CbenchOptions = {}): Promise<CbenchResult> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS;
  if (o.mode !== 'throughput' && o.mode !== 'latency') throw new CbenchError(`mode must be throughput or latency, got ${String(o.mode)}`, true);
  const { host, port } = parseController(o.controller);
  check('switches', o.switches, 1, 10_000);
  check('seconds', o.seconds, 0.01, 86_400, false);
  check('warmup', o.warmup, 0, 3600, false);
  check('macs', o.macs, 1, 1_000_000);
  check('window', o.window, 1, 65_536);
  check('ports', o.ports, 1, 0xff00);
  check('timeoutMs', o.timeoutMs, 1, 3_600_000);
  const window = o.mode === 'latency' ? 1 : o.window;
  const controller = `${host}:${port}`;

  const t0 = process.hrtime.bigint();
  const run: RunState = {
    clock: () => Number(process.hrtime.bigint() - t0),
    measureFrom: Infinity, measureTo: Infinity,
    latency: new LatencyHistogram(),
    traffic: new Traffic({ macs: o.macs, ports: o.ports }),
  };
  const switches = Array.from({ length: o.switches }, (_, i) => new FakeSwitch({
    index: i, datapathId: o.firstDatapathId + BigInt(i), host, port, window, buffered: o.buffered,
    timeoutMs: o.timeoutMs, connectTimeoutMs: o.handshakeTimeoutMs,
  }, run));
  const errors: string[] = [];
  const ticker = setInterval(() => { for (const s of switches) s.tick(); }, 20);
  try {
    const conns = await Promise.allSettled(switches.map((s) => s.connect()));
    const refused = conns.filter((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (refused.length === switches.length) {
      throw new CbenchError(`cannot benchmark ${controller}: ${(refused[0].reason as Error).message.replace(/^switch 1 \([^)]*\): /, '')}`);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(switches.map((s) => s.whenReady())),
      new Promise<void>((r) => { timer = setTimeout(r, o.handshakeTimeoutMs); }),
    ]);
    clearTimeout(timer);
    if (!switches.some((s) => s.phase === 'running')) {
      throw new CbenchError(`no switch got an answer to a PACKET_IN from ${controller} within ${o.handshakeTimeoutMs} ms:\n  ` +
        switches.slice(0, 4).map((s) => `${s.name}: ${describe(s)}`).join('\n  '));
    }
    for (const s of switches) {
      if (s.phase !== 'running' && s.phase !== 'failed') errors.push(`${s.name}: not answered within ${o.handshakeTimeoutMs} ms (${describe(s)})`);
    }
    await sleep(o.warmup * 1000);
    run.measureFrom = run.clock();
    await sleep(o.seconds * 1000);
    run.measureTo = run.clock();
  } finally {
    clearInterval(ticker);
    await Promise.all(switches.map((s) => s.stop()));
  }

  const seconds = (run.measureTo - run.measureFrom) / 1e9;
  for (const s of switches) for (const p of s.problems) errors.push(`${s.name}: ${p}`);
  const sum = (f: (s: FakeSwitch) => number) => switches.reduce((a, s) => a + f(s), 0);
  const perSwitch = switches.map((s) => s.measured.responses / seconds);
  const count = (f: (s: FakeSwitch) => boolean) => switches.filter(f).length;
  const lat = run.latency;
  return {
    bench: 'cbench', mode: o.mode, switches: o.switches,
    responses_per_s: Math.round(sum((s) => s.measured.responses) / seconds),
    latency_p50_us: round1(lat.percentileUs(0.5)),
    latency_p99_us: round1(lat.percentileUs(0.99)),
    controller, seconds: Math.round(seconds * 1000) / 1000, warmup: o.warmup, macs: o.macs, window, buffered: o.buffered,
    responses: sum((s) => s.measured.responses),
    flow_mods: sum((s) => s.measured.flowMods),
    packet_outs: sum((s) => s.measured.packetOuts),
    packet_ins: sum((s) => s.measured.packetInsSent),
    answered: sum((s) => s.measured.answered),
    lost: sum((s) => s.measured.lost),
    per_switch_min: Math.round(Math.min(...perSwitch)),
    per_switch_max: Math.round(Math.max(...perSwitch)),
    latency_mean_us: round1(lat.meanUs()),
    latency_max_us: round1(lat.maxUs()),
    handshake: {
      connected: count((s) => s.connected),
      hello: count((s) => s.handshake.hello),
      features: count((s) => s.handshake.features),
      port_desc: count((s) => s.handshake.portDesc),
      set_config: count((s) => s.handshake.setConfig),
      running: count((s) => s.primed),
    },
    errors,
  };
}

function describe(s: FakeSwitch): string {
  const h = s.handshake;
  const steps = `HELLO ${h.hello ? 'yes' : 'no'}, FEATURES ${h.features ? 'yes' : 'no'}, PORT_DESC ${h.portDesc ? 'yes' : 'no'}`;
  return `${s.phase}; ${steps}${s.problems.length ? '; ' + s.problems.join('; ') : ''}`;
}

/** The human-readable summary line. */
export function summary(r: CbenchResult): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const us = (x: number | null) => (x === null ? 'n/a' : `${x} µs`);
  return `cbench ${r.mode} ${r.controller}: ${r.switches} switches, ${r.seconds} s, ${r.macs} MACs` +
    `${r.mode === 'throughput' ? `, window ${r.window}` : ''}: ${n(r.responses_per_s)} responses/s ` +
    `(per switch ${n(r.per_switch_min)}–${n(r.per_switch_max)}; ${n(r.flow_mods)} FLOW_MOD, ${n(r.packet_outs)} PACKET_OUT), ` +
    `latency p50 ${us(r.latency_p50_us)} p99 ${us(r.latency_p99_us)} (${n(r.answered)} samples), ${n(r.lost)} lost`;
}

const USAGE = `usage: node dist/tools/bench/cbench.js [options]

Emulates OpenFlow 1.3 switches that flood a controller with table-miss PACKET_INs and
counts the FLOW_MODs and PACKET_OUTs it answers with (cbench for OpenFlow 1.3).

  --controller HOST:PORT  controller to connect to (default ${DEFAULTS.controller})
  --oskn                  start os-ken (python3-os-ken, learning switch) on a free loopback
                          port and benchmark it instead of --controller
  --switches N            emulated switches, one TCP connection each (default ${DEFAULTS.switches})
  --mode MODE             throughput: keep --window packet-ins outstanding per switch;
                          latency: one at a time (default ${DEFAULTS.mode})
  --seconds S             measured time (default ${DEFAULTS.seconds})
  --warmup S              traffic before counting starts (default ${DEFAULTS.warmup})
  --macs N                hosts (MAC addresses) per switch (default ${DEFAULTS.macs})
  --window N              outstanding packet-ins per switch, throughput mode (default ${DEFAULTS.window})
  --buffered              packet-ins carry a buffer id instead of OFP_NO_BUFFER
  --ports N               ports per switch (default ${DEFAULTS.ports})
  --timeout-ms MS         an unanswered packet-in is lost after this (default ${DEFAULTS.timeoutMs})
  --handshake-timeout-ms MS  time to connect and get a first answer (default ${DEFAULTS.handshakeTimeoutMs})
  -h, --help              this text

Prints a summary line, then one JSON line:
  {"bench":"cbench","mode":…,"switches":N,"responses_per_s":…,"latency_p50_us":…,"latency_p99_us":…,…}
Exit status: 0 ok, 1 the run failed or reported errors, 2 bad usage.`;

async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        controller: { type: 'string' }, oskn: { type: 'boolean' }, switches: { type: 'string' }, mode: { type: 'string' },
        seconds: { type: 'string' }, warmup: { type: 'string' }, macs: { type: 'string' }, window: { type: 'string' },
        buffered: { type: 'boolean' }, ports: { type: 'string' }, 'timeout-ms': { type: 'string' },
        'handshake-timeout-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`cbench: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) { console.log(USAGE); return 0; }
  const num = (k: string) => (values[k] === undefined ? undefined : Number(values[k]));
  const opts: CbenchOptions = {
    controller: values.controller as string | undefined, switches: num('switches'), mode: values.mode as CbenchMode | undefined,
    seconds: num('seconds'), warmup: num('warmup'), macs: num('macs'), window: num('window'),
    buffered: values.buffered as boolean | undefined, ports: num('ports'), timeoutMs: num('timeout-ms'),
    handshakeTimeoutMs: num('handshake-timeout-ms'),
  };
  const oskn = values.oskn ? await startOsKen() : null;
  try {
    const r = await runCbench(oskn ? { ...opts, controller: `${oskn.host}:${oskn.port}` } : opts);
    console.log(summary(r) + (oskn ? ' [os-ken learning switch]' : ''));
    for (const e of r.errors) console.error(`cbench: ${e}`);
    console.log(JSON.stringify(r));
    return r.errors.length ? 1 : 0;
  } catch (e) {
    if (!(e instanceof CbenchError)) throw e;
    console.error(`cbench: ${e.message}`);
    return e.usage ? 2 : 1;
  } finally {
    await oskn?.stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
