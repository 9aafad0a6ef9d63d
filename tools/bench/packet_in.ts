/**
 * Benchmark `packet-in`: the controller (its own process, as an operator runs it) with the
 * reactive learning app, driven by tools/bench/cbench.ts's fake OpenFlow 1.3 switches.
 * Throughput with 16 switches; latency (one packet-in outstanding) with 1 and 16 switches.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCbench } from './cbench.js';
import { freePort } from './cbench/oskn.js';
import type { BenchArgs } from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

async function startControllerProcess(dir: string, port: number): Promise<{ stop(): Promise<void> }> {
  const cfg = path.join(dir, 'controller.yaml');
  writeFileSync(cfg, `listen: { host: 127.0.0.1, port: ${port} }\nstore: ${path.join(dir, 'store.db')}\napps: { learning: {} }\n`);
  const child = spawn(process.execPath, [path.join(root, 'bin/nfvnode.js'), 'controller', '--config', cfg], {
    env: { ...process.env, NFVNODE_LOG: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Ready when the port accepts connections (bounded).
  const net = await import('node:net');
  const end = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() > end || child.exitCode !== null) { child.kill('SIGKILL'); throw new Error('controller did not start listening'); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const seconds = args.quick ? 3 : 10;
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-pktin-'));
  const port = await freePort();
  const ctl = await startControllerProcess(dir, port);
  try {
    const controller = `127.0.0.1:${port}`;
    const tput = await runCbench({ controller, switches: 16, mode: 'throughput', seconds, warmup: 1, macs: 1000 });
    const lat1 = await runCbench({ controller, switches: 1, mode: 'latency', seconds: Math.min(seconds, 3), warmup: 0.5, macs: 1000, firstDatapathId: 101n });
    const lat16 = await runCbench({ controller, switches: 16, mode: 'latency', seconds: Math.min(seconds, 3), warmup: 0.5, macs: 1000, firstDatapathId: 201n });
    const out = {
      bench: 'packet-in',
      switches: 16,
      responses_per_s: Math.round(tput.responses_per_s),
      throughput_latency_p50_us: tput.latency_p50_us,
      latency_p50_us: lat1.latency_p50_us,
      latency_p99_us: lat1.latency_p99_us,
      latency_switches: 1,
      latency_16_switches_p50_us: lat16.latency_p50_us,
      latency_16_switches_p99_us: lat16.latency_p99_us,
      latency_16_switches_responses_per_s: Math.round(lat16.responses_per_s),
      errors: [...tput.errors, ...lat1.errors, ...lat16.errors].slice(0, 5),
    };
    console.log(`packet-in: ${out.responses_per_s.toLocaleString('en-US')} responses/s (16 switches, throughput); ` +
      `latency p50 ${out.latency_p50_us} µs p99 ${out.latency_p99_us} µs (1 switch), p50 ${out.latency_16_switches_p50_us} µs (16 switches)`);
    return out;
  } finally {
    await ctl.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
