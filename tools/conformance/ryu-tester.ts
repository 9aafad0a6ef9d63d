/**
 * `node dist/tools/conformance/ryu-tester.js [options] DIR`: runs Ryu's OpenFlow switch test
 * suite (os-ken's tester.py, the JSON test files of ryu/tests/switch/of13 in DIR) against our
 * switch (`nfvnode switch`, DPDK datapath, net_af_packet ports) with Open vSwitch (userspace
 * datapath) as the tester switch. See switch/README.md, "Conformance: Ryu's switch tests".
 *
 * The network tester.py expects, built in a private network namespace (root needed):
 *
 * ```
 *   osken-manager + tester.py  (127.0.0.1:PORT inside the namespace)
 *        |                    \
 *   target: nfvnode switch     tester: ovs-vswitchd, bridge brt, datapath_type=netdev
 *   dpid 1, ports 1 2 3 ───veth─── ports 1 2 3 (rt1-rs1, rt2-rs2, rt3-rs3)
 * ```
 *
 * Test files: Ryu's are Python 2 (str payloads); tools/conformance/ryu_py3.py ports a copy of
 * them to Python 3 (payloads only), and tools/conformance/ryu_osken.py fixes os-ken's SCTP
 * checksum under Python 3 before starting osken-manager. Nothing else of the suite changes.
 *
 * The tester OVS runs without a datapath flow cache (other_config:flow-limit=0; see below).
 * A test that fails other than by an OpenFlow error reply is still run once more (--retries,
 * default 1), and the results say which tests passed only on a retry ("flaky").
 *
 * Output: the tester's log goes to WORKDIR/osken*.log; stdout ends with one JSON line (the
 * summary) and one human line. Exit code 0: every test passed; 1: some failed; 2: the run
 * could not be set up.
 *
 * Processes (ovsdb-server, ovs-vswitchd, the switch, osken-manager) are children of this
 * process inside the namespace; each is stopped by pid, then the namespace is deleted (which
 * deletes the veths). Every wait is bounded (--timeout-min for the whole run).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOvs, pidAlive, type Ovs } from '../lab/ovs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** the repository (this file runs from dist/tools/conformance) */
const repoRoot = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
const TOOLS = path.join(repoRoot, 'tools', 'conformance');
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-os-ken is installed

const TARGET_DPID = 1n;
const TESTER_DPID = 2n;

const USAGE = `usage: node dist/tools/conformance/ryu-tester.js [options] DIR

Runs Ryu's OpenFlow 1.3 switch tests (os-ken tester.py) against nfvnode's switch, with a
private Open vSwitch (userspace datapath) as the tester switch, in a network namespace.
Needs root, Debian's python3-os-ken and openvswitch-switch, and a built switch
(npx tsc -p . && make -C switch).

  DIR                 Ryu's test files: a directory (searched recursively) or one .json file,
                      e.g. a copy of ryu/tests/switch/of13 from the Ryu repository
options:
  --only SUBSTR       run only the files whose path under DIR contains SUBSTR (repeatable)
  --retries N         run failed tests again, N times (default 1; not those the switch
                      refused with an OpenFlow error)
  --timeout-min N     bound for the whole run, minutes (default 120)
  --workdir DIR       where logs and the ported tests go (default: a new temporary directory)
  --workers N         datapath worker lcores of the switch (default 1)
  --control-ovs       test a second Open vSwitch bridge (userspace datapath) instead of our
                      switch: the same set-up with a known switch, to tell the tester's limits
                      from our failures
  -h, --help          this text

Prints one JSON line {"passed","failed","flaky","categories","failures",…} and one human line.
Exit code: 0 all passed, 1 some failed, 2 set-up error.`;

interface Args {
  dir: string;
  only: string[];
  retries: number;
  timeoutMin: number;
  workdir?: string;
  workers: number;
  /** target a second OVS bridge instead of nfvnode switch */
  controlOvs: boolean;
  /** internal: this process is the part running inside the namespace */
  inside?: string;
}

function parseArgs(argv: string[]): Args | string {
  const a: Args = { dir: '', only: [], retries: 1, timeoutMin: 120, workers: 1, controlOvs: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    const next = (): string => {
      const n = argv[++i];
      if (n === undefined) throw new Error(`${v} needs a value`);
      return n;
    };
    const int = (s: string, min: number): number => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < min) throw new Error(`${v}: not an integer ≥ ${min}: ${s}`);
      return n;
    };
    try {
      if (v === '-h' || v === '--help') return 'help';
      else if (v === '--only') a.only.push(next());
      else if (v === '--retries') a.retries = int(next(), 0);
      else if (v === '--timeout-min') a.timeoutMin = int(next(), 1);
      else if (v === '--workdir') a.workdir = next();
      else if (v === '--workers') a.workers = int(next(), 1);
      else if (v === '--control-ovs') a.controlOvs = true;
      else if (v === '--inside') a.inside = next();
      else if (v.startsWith('-')) return `unknown option ${v}`;
      else if (a.dir) return `more than one DIR: ${a.dir}, ${v}`;
      else a.dir = v;
    } catch (e) {
      return (e as Error).message;
    }
  }
  if (!a.dir) return 'no DIR given';
  return a;
}

// ───────────────────────────── results ─────────────────────────────

export interface TestResult {
  /** path of the test file under DIR */
  readonly file: string;
  readonly test: string;
  readonly ok: boolean;
  /** tester.py's reason for a failure */
  readonly reason?: string;
}

export interface Summary {
  readonly tool: 'ryu-tester';
  readonly dir: string;
  readonly target: string;
  readonly passed: number;
  readonly failed: number;
  /** failed on the first run, passed on a retry (counted in passed) */
  readonly flaky: { file: string; test: string; first: string }[];
  /** files tester.py could not load */
  readonly unloaded: { file: string; reason: string }[];
  readonly categories: Record<string, { passed: number; failed: number }>;
  readonly failures: { file: string; test: string; reason: string }[];
  readonly workdir: string;
}

/**
 * Parses tester.py's log. Each file starts with its description (the first string of the
 * JSON file) on a line of its own; each test is `    DESCRIPTION   OK|ERROR`, an ERROR
 * followed by `        REASON`.
 */
export function parseTesterLog(log: string, fileOfDescription: ReadonlyMap<string, string>): { results: TestResult[]; unloaded: { file: string; reason: string }[] } {
  const results: TestResult[] = [];
  const unloaded: { file: string; reason: string }[] = [];
  let file = '?';
  const lines = log.split('\n');
  for (let i = 0; i < lines.length; i++) {
    // tester.py's progress dots for throughput tests share the log without a newline of their own
    const line = lines[i].replace(/\r$/, '').replace(/^[.\r]+(?= )/, '');
    const bad = / : Test file format error \((.*)\)$/.exec(line);
    if (bad) { unloaded.push({ file: line.slice(0, bad.index), reason: bad[1] }); continue; }
    if (!line.startsWith(' ')) {
      const f = fileOfDescription.get(line);
      if (f !== undefined) file = f;
      continue;
    }
    const m = /^ {4}(\S.*?)\s+(OK|ERROR)$/.exec(line);
    if (!m) continue;
    if (m[2] === 'OK') { results.push({ file, test: m[1], ok: true }); continue; }
    const next = lines[i + 1] ?? '';
    const reason = next.startsWith('        ') ? next.trim() : '(no reason logged)';
    results.push({ file, test: m[1], ok: false, reason });
  }
  return { results, unloaded };
}

// ───────────────────────────── outer part: the namespace ─────────────────────────────

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
}

async function outer(a: Args): Promise<number> {
  if (process.getuid?.() !== 0) { console.error('ryu-tester: needs root (network namespace, veths, raw sockets)'); return 2; }
  for (const f of ['/usr/sbin/ovs-vswitchd', PYTHON, path.join(repoRoot, 'switch/build/libofsw.so'), path.join(repoRoot, 'dist/controller/main.js')]) {
    if (!existsSync(f)) { console.error(`ryu-tester: ${f} not found (openvswitch-switch installed? switch built?)`); return 2; }
  }
  try { run(PYTHON, ['-c', 'import os_ken.tests.switch.tester']); } catch { console.error('ryu-tester: os-ken tester not importable (Debian python3-os-ken)'); return 2; }
  if (!existsSync(a.dir)) { console.error(`ryu-tester: ${a.dir}: no such file or directory`); return 2; }

  const workdir = a.workdir ? path.resolve(a.workdir) : mkdtempSync(path.join(os.tmpdir(), 'nfv-ryu-'));
  mkdirSync(workdir, { recursive: true });
  const ns = `nfvryu${process.pid}`;
  const ip = (...args: string[]) => run('ip', args);
  const inNs = (...args: string[]) => run('ip', ['netns', 'exec', ns, ...args]);
  let child: ChildProcess | undefined;
  const cleanup = () => {
    // anything still running in our namespace was started by this run
    try {
      for (const p of run('ip', ['netns', 'pids', ns]).split('\n').map(Number).filter((n) => n > 0)) {
        try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      }
    } catch { /* no namespace */ }
    try { ip('netns', 'del', ns); } catch { /* already gone */ }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (child?.pid !== undefined && child.exitCode === null) { try { process.kill(child.pid, sig); } catch { /* gone */ } }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', cleanup);
  try {
    ip('netns', 'add', ns);
    inNs('ip', 'link', 'set', 'lo', 'up');
    for (const i of [1, 2, 3]) {
      inNs('ip', 'link', 'add', `rt${i}`, 'type', 'veth', 'peer', 'name', `rs${i}`);
      for (const v of [`rt${i}`, `rs${i}`]) {
        // no IPv6 autoconfiguration: the kernel's own packets (RS, MLD) would reach the switches
        inNs('sysctl', '-qw', `net.ipv6.conf.${v}.disable_ipv6=1`);
        inNs('ip', 'link', 'set', v, 'up');
      }
    }
    const self = fileURLToPath(import.meta.url);
    const argv = [self, '--inside', workdir, '--retries', String(a.retries), '--timeout-min', String(a.timeoutMin), '--workers', String(a.workers),
      ...a.only.flatMap((o) => ['--only', o]), ...(a.controlOvs ? ['--control-ovs'] : []), path.resolve(a.dir)];
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...argv], { stdio: 'inherit' });
    const code = await new Promise<number>((resolve) => {
      child!.once('exit', (c, s) => resolve(c ?? (s ? 2 : 2)));
      child!.once('error', () => resolve(2));
    });
    return code;
  } catch (e) {
    console.error(`ryu-tester: ${(e as Error).message}`);
    return 2;
  } finally {
    cleanup();
    process.off('exit', cleanup);
  }
}

// ───────────────────────────── inner part: switches and tester ─────────────────────────────

interface Proc { readonly label: string; readonly child: ChildProcess; readonly exited: Promise<number | null> }

function startProc(label: string, cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Proc {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try { child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env }); } finally { closeSync(fd); }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.once('error', () => resolve(null));
  });
  return { label, child, exited };
}

async function stopProc(p: Proc | undefined, graceMs = 5000): Promise<void> {
  if (!p || p.child.pid === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const pid = p.child.pid;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  let t: NodeJS.Timeout | undefined;
  const done = await Promise.race([p.exited.then(() => true), new Promise<false>((r) => { t = setTimeout(() => r(false), graceMs); })]);
  clearTimeout(t);
  if (!done && pidAlive(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    await Promise.race([p.exited, new Promise((r) => setTimeout(r, 5000))]);
  }
}

/** description (first string of the file) → path under the test directory */
function describeFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const full = path.join(d, n);
      if (statSync(full).isDirectory()) walk(full);
      else if (n.endsWith('.json')) {
        try {
          const doc = JSON.parse(readFileSync(full, 'utf8')) as unknown[];
          const desc = doc.find((x) => typeof x === 'string');
          if (typeof desc === 'string') out.set(desc, path.relative(dir, full));
        } catch { /* tester.py reports it */ }
      }
    }
  };
  walk(dir);
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function inside(a: Args): Promise<number> {
  const workdir = a.inside!;
  const deadline = Date.now() + a.timeoutMin * 60_000;
  const procs: Proc[] = [];
  let ovs: Ovs | undefined;
  const killAll = () => { for (const p of procs) if (p.child.pid !== undefined && p.child.exitCode === null) { try { process.kill(p.child.pid, 'SIGKILL'); } catch { /* gone */ } } };
  process.on('exit', killAll);
  let stopping = false;
  const onSignal = () => { stopping = true; void (async () => { for (const p of procs) await stopProc(p, 2000); await ovs?.stop().catch(() => {}); process.exit(2); })(); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // 1. the tests, ported to Python 3
  const tests = path.join(workdir, 'tests');
  rmSync(tests, { recursive: true, force: true });
  const port = JSON.parse(execFileSync(PYTHON, [path.join(TOOLS, 'ryu_py3.py'), a.dir, tests, ...a.only], { encoding: 'utf8' }).trim()) as { files: number; tests: number };
  if (port.files === 0) { console.error(`ryu-tester: no test files in ${a.dir}${a.only.length ? ` matching ${a.only.join(', ')}` : ''}`); return 2; }
  console.error(`ryu-tester: ${port.files} files, ${port.tests} tests; logs in ${workdir}`);
  const fileOf = describeFiles(tests);

  const ctlPort = 6653; // our own namespace: nothing else listens here
  try {
    // 2. the tester switch: Open vSwitch, userspace datapath, on the rs* veth ends
    ovs = await startOvs({ name: 'ryu-tester', dummyNetdevs: false });
    // No datapath flow cache in the tester: tester.py deletes and re-adds the tester's flows
    // before every test, and OVS answers the barrier before its revalidators have updated the
    // cached datapath flows, so a test packet could meet a stale "drop" entry and its
    // packet-in never come ("Receiving timeout: increment in rx_packets in tester", ~1.5 % of
    // tests here; 0 of 960 with this setting). Every packet is then classified in userspace.
    await ovs.vsctl('set', 'Open_vSwitch', '.', 'other_config:flow-limit=0');
    await ovs.addBridge('brt', {
      dpid: TESTER_DPID, controllers: [`tcp:127.0.0.1:${ctlPort}`], maxBackoffMs: 1000,
      ports: [1, 2, 3].map((i) => ({ name: `rs${i}`, ofport: i, type: 'system' as const })),
    });
    // 3. the target: nfvnode switch on the rt* veth ends (or, as a control, a second OVS bridge)
    if (a.controlOvs) {
      await ovs.addBridge('brx', {
        dpid: TARGET_DPID, controllers: [`tcp:127.0.0.1:${ctlPort}`], maxBackoffMs: 1000,
        ports: [1, 2, 3].map((i) => ({ name: `rt${i}`, ofport: i, type: 'system' as const })),
      });
    }
    const cfg = path.join(workdir, 'switch.yaml');
    if (!a.controlOvs) writeFileSync(cfg, [
      `datapath_id: "0x${TARGET_DPID.toString(16)}"`,
      `controllers: ["tcp:127.0.0.1:${ctlPort}"]`,
      `backend: { kind: dpdk, eal_args: "--no-huge --no-pci -m 512", workers: ${a.workers} }`,
      'ports:',
      ...[1, 2, 3].map((i) => `  - { port_no: ${i}, name: rt${i}, devargs: "net_af_packet${i},iface=rt${i}" }`),
      '',
    ].join('\n'));
    const sw = a.controlOvs ? undefined
      : startProc('nfvnode switch', process.execPath, [path.join(repoRoot, 'bin/nfvnode.js'), 'switch', '--config', cfg], path.join(workdir, 'switch.log'));
    if (sw) procs.push(sw);
    const switchGone = () => sw !== undefined && (sw.child.exitCode !== null || sw.child.signalCode !== null);

    // 4. the tester, once per round: all files, then the files with failures again
    const final = new Map<string, TestResult>(); // key: file \0 test \0 index within file
    const firstFailure = new Map<string, string>();
    let unloaded: { file: string; reason: string }[] = [];
    let round = 0;
    /** per file, the descriptions of the tests to run again; undefined: everything */
    let toRun: Map<string, Set<string>> | undefined;
    for (; round <= a.retries; round++) {
      if (stopping) return 2;
      const dirForRound = toRun === undefined ? tests : path.join(workdir, `retry${round}`);
      if (toRun !== undefined) {
        rmSync(dirForRound, { recursive: true, force: true });
        for (const [f, descs] of toRun) {
          // the file's title and only the failed tests (every test of a failed description,
          // so the n-th occurrence of a description stays the n-th)
          const doc = JSON.parse(readFileSync(path.join(tests, f), 'utf8')) as unknown[];
          const kept = doc.filter((x) => typeof x === 'string' || descs.has((x as { description?: string }).description ?? ''));
          mkdirSync(path.dirname(path.join(dirForRound, f)), { recursive: true });
          writeFileSync(path.join(dirForRound, f), JSON.stringify(kept));
        }
      }
      const log = path.join(workdir, round === 0 ? 'osken.log' : `osken-retry${round}.log`);
      const tester = startProc('osken-manager', PYTHON, [path.join(TOOLS, 'ryu_osken.py'),
        '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(ctlPort),
        '--test-switch-dir', dirForRound,
        '--test-switch-target', TARGET_DPID.toString(16).padStart(16, '0'),
        '--test-switch-tester', TESTER_DPID.toString(16).padStart(16, '0'),
        'os_ken.tests.switch.tester'], log);
      procs.push(tester);
      // tester.py ends itself (SIGTERM to its own pid) after the report
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([tester.exited.then(() => true), new Promise<false>((r) => { timer = setTimeout(() => r(false), Math.max(1000, deadline - Date.now())); })]);
      clearTimeout(timer);
      if (!finished) { console.error(`ryu-tester: run did not finish within --timeout-min ${a.timeoutMin}; partial results`); await stopProc(tester); }
      if (switchGone()) console.error(`ryu-tester: the switch exited (${sw!.child.exitCode ?? sw!.child.signalCode}); see ${path.join(workdir, 'switch.log')}`);
      const parsed = parseTesterLog(readFileSync(log, 'utf8'), fileOf);
      if (round === 0) unloaded = parsed.unloaded;
      const seen = new Map<string, number>();
      for (const r of parsed.results) {
        const k0 = `${r.file}\0${r.test}`;
        const n = seen.get(k0) ?? 0;
        seen.set(k0, n + 1);
        const k = `${k0}\0${n}`;
        if (round === 0 && !r.ok) firstFailure.set(k, r.reason ?? '');
        final.set(k, r);
      }
      // An error reply from the switch is its decision, not timing: only the others are retried.
      const retry = new Map<string, Set<string>>();
      for (const r of final.values()) {
        if (r.ok || r.file === '?' || (r.reason ?? '').includes('OFPErrorMsg[')) continue;
        if (!retry.has(r.file)) retry.set(r.file, new Set());
        retry.get(r.file)!.add(r.test);
      }
      if (retry.size === 0 || !finished || switchGone()) break;
      toRun = retry;
      // OVS re-connects to the next osken-manager within its back-off (1 s)
      await sleep(500);
    }

    // 5. summary
    const results = [...final.entries()];
    const categories: Record<string, { passed: number; failed: number }> = {};
    for (const [, r] of results) {
      const cat = r.file.includes('/') ? r.file.split('/')[0] : '(top)';
      const c = (categories[cat] ??= { passed: 0, failed: 0 });
      if (r.ok) c.passed++; else c.failed++;
    }
    const summary: Summary = {
      tool: 'ryu-tester',
      dir: a.dir,
      target: a.controlOvs ? 'open vswitch (control)' : 'nfvnode switch',
      passed: results.filter(([, r]) => r.ok).length,
      failed: results.filter(([, r]) => !r.ok).length,
      flaky: results.filter(([k, r]) => r.ok && firstFailure.has(k)).map(([k, r]) => ({ file: r.file, test: r.test, first: firstFailure.get(k)! })),
      unloaded,
      categories,
      failures: results.filter(([, r]) => !r.ok).map(([, r]) => ({ file: r.file, test: r.test, reason: r.reason ?? '' })),
      workdir,
    };
    writeFileSync(path.join(workdir, 'summary.json'), JSON.stringify(summary, null, 1));
    console.log(JSON.stringify(summary));
    const cats = Object.entries(categories).map(([k, v]) => `${k} ${v.passed}/${v.passed + v.failed}`).join(', ');
    console.log(`ryu-tester: ${summary.passed} passed, ${summary.failed} failed (${cats}; ${summary.flaky.length} passed only on a retry, ${unloaded.length} files not loaded) — ${workdir}`);
    return summary.failed === 0 && unloaded.length === 0 ? 0 : 1;
  } catch (e) {
    console.error(`ryu-tester: ${(e as Error).message}`);
    return 2;
  } finally {
    for (const p of procs) await stopProc(p);
    await ovs?.stop().catch((e: Error) => console.error(`ryu-tester: stopping Open vSwitch: ${e.message}`));
    process.off('exit', killAll);
  }
}

async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  if (a === 'help') { console.log(USAGE); return 0; }
  if (typeof a === 'string') { console.error(`ryu-tester: ${a}\n\n${USAGE}`); return 2; }
  return a.inside ? inside(a) : outer(a);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
