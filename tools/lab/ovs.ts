/**
 * A private Open vSwitch for one test or benchmark: its own ovsdb-server and ovs-vswitchd in a
 * temporary directory, userspace datapath only (`datapath_type=netdev`), never the system
 * instance, never the kernel.
 *
 * ```ts
 * const ovs = await startOvs({ name: 'reconcile' });
 * t.teardown(() => ovs.stop());
 * await ovs.addBridge('br0', { dpid: 1, controllers: [`tcp:127.0.0.1:${port}`], ports: ['p1', 'p2'] });
 * await ovs.waitForConnected('br0');
 * await ovs.ofctl('add-flow', 'br0', 'table=0,priority=10,in_port=1,actions=output:2');
 * (await ovs.dumpFlows('br0')).map((f) => f.text);   // ['table=0, priority=10,in_port=1 actions=output:2']
 * await ovs.restart();                              // flows gone, bridges and controllers kept
 * ```
 *
 * How it stays private and kernel-free:
 * - every path OVS would default to /var/run, /var/log, /etc/openvswitch (db socket, unixctl
 *   sockets, pidfiles, logs, the bridges' `<br>.mgmt` / `<br>.snoop` sockets) is the temporary
 *   directory: `OVS_RUNDIR`, `OVS_LOGDIR`, `OVS_DBDIR`, `OVS_SYSCONFDIR` plus explicit options;
 * - ovs-vswitchd runs with `--disable-system --disable-system-route` (no kernel datapath, no
 *   routing table from the host) and `--enable-dummy=override`: every network device type is
 *   OVS's in-memory dummy netdev, so a bridge's internal port does not become a tap device in
 *   the host (a netdev bridge otherwise creates a persistent tap named after the bridge, which
 *   outlives a killed vswitchd and collides between tests that use the same bridge name).
 *   The OpenFlow pipeline and the datapath are still dpif-netdev, the userspace datapath.
 * - ports are `type=dummy` (no kernel support needed); `type=internal` is accepted and is a
 *   dummy too under the override.
 *
 * Processes: both daemons run in the foreground (no --detach) as children of this process, so
 * their pids are known without pidfile races; each is stopped by pid (SIGTERM, then SIGKILL
 * after a bound). They are unref'd, so a test that forgets stop() still ends: a process `exit`
 * hook then kills whatever is still running. A small shell
 * watchdog (its own process group, stopped by stop()) kills the daemons and removes the
 * directory if this process dies without running its hooks (e.g. SIGKILL).
 *
 * Every wait is bounded; errors carry the tail of the OVS log files.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const execFileP = promisify(execFile);

export const OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
const BIN = {
  ovsdbTool: 'ovsdb-tool',
  ovsdbServer: '/usr/sbin/ovsdb-server',
  vswitchd: '/usr/sbin/ovs-vswitchd',
  vsctl: 'ovs-vsctl',
  ofctl: 'ovs-ofctl',
  appctl: 'ovs-appctl',
};

export class OvsError extends Error {
  override readonly name = 'OvsError';
}

export interface StartOvsOptions {
  /** a short label for the temporary directory (sanitised, at most 16 characters) */
  readonly name?: string;
  /** parent of the temporary directory (default os.tmpdir()); keep it short: socket paths ≤ 107 bytes */
  readonly tmpRoot?: string;
  /** keep the directory after stop() (default: env NFVNODE_KEEP_OVS=1) */
  readonly keepDir?: boolean;
  /** bound for each daemon to become ready (default 15 s) */
  readonly startTimeoutMs?: number;
  /** default bound for one ovs-vsctl / ovs-ofctl / ovs-appctl run (default 120 s) */
  readonly commandTimeoutMs?: number;
  /** extra `-v` specs for ovs-vswitchd, e.g. ['vconn:file:dbg'] */
  readonly vswitchdLog?: readonly string[];
  /**
   * Every netdev an in-memory dummy (default true, see above). false: ports of `type: 'system'`
   * are the host's interfaces (raw sockets, still the userspace datapath), for a caller that runs
   * this process inside a network namespace of its own (tools/conformance/ryu-tester.ts) — the
   * bridge's internal port is then a tap device in that namespace.
   */
  readonly dummyNetdevs?: boolean;
}

export interface PortSpec {
  readonly name: string;
  /** OpenFlow port number asked for (ofport_request) */
  readonly ofport?: number;
  /** default 'dummy'; 'system' (an existing interface) needs dummyNetdevs: false */
  readonly type?: 'dummy' | 'internal' | 'system';
}

export interface BridgeOptions {
  /** datapath id: number/bigint, or 16 hex digits */
  readonly dpid?: number | bigint | string;
  /** controller targets, e.g. ['tcp:127.0.0.1:6653'] */
  readonly controllers?: readonly string[];
  /** default 'secure' (no NORMAL fallback when no controller) */
  readonly failMode?: 'secure' | 'standalone';
  /** default ['OpenFlow13'] */
  readonly protocols?: readonly string[];
  /** ports; a string is a dummy port; ports without ofport get 1, 2, … in order */
  readonly ports?: readonly (string | PortSpec)[];
  /** controller reconnect back-off cap (default 1000 ms; OVS's own default is 8 s) */
  readonly maxBackoffMs?: number;
  /** controller inactivity probe (OVS default 5000 ms; 0 disables) */
  readonly inactivityProbeMs?: number;
  /** extra bridge other_config entries */
  readonly otherConfig?: Readonly<Record<string, string>>;
}

/** One flow of `ovs-ofctl dump-flows`, with the volatile fields (duration, counters, ages) removed. */
export interface FlowEntry {
  /** the normalised line: `cookie=0x5, table=0, priority=100,ip,in_port=1 actions=output:2` (cookie only when non-zero) */
  readonly text: string;
  readonly cookie: bigint;
  readonly table: number;
  readonly priority: number;
  /** the match without priority, as OVS prints it (`ip,in_port=1,nw_dst=10.0.0.1`; '' for match-all) */
  readonly match: string;
  readonly actions: string;
  /** the other kept fields (idle_timeout, hard_timeout, importance, flags …) */
  readonly extra: Readonly<Record<string, string>>;
}

export interface Aggregate {
  readonly packet_count: bigint;
  readonly byte_count: bigint;
  readonly flow_count: number;
}

export interface RunResult { readonly stdout: string; readonly stderr: string }

export interface Ovs {
  readonly name: string;
  /** the private directory (db, sockets, logs, pidfiles) */
  readonly dir: string;
  /** environment that points OVS tools at this instance (OVS_RUNDIR … = dir) */
  readonly env: Readonly<Record<string, string>>;
  /** `unix:<dir>/db.sock` */
  readonly db: string;
  /** pids of the running daemons (undefined when not running) */
  pids(): { ovsdbServer: number | undefined; vswitchd: number | undefined; watchdog: number | undefined };
  /** every pid this harness ever started (to check nothing is left) */
  allPids(): number[];
  /** `ovs-vsctl --db=… --timeout=… ARGS` (waits for vswitchd to apply changes unless ARGS has --no-wait); stdout */
  vsctl(...args: string[]): Promise<string>;
  /** `ovs-ofctl -O OpenFlow13 COMMAND unix:<dir>/<br>.mgmt REST` (options may be anywhere in REST); stdout */
  ofctl(command: string, br: string, ...rest: string[]): Promise<string>;
  /** `ovs-ofctl -O OpenFlow13 ARGS` for commands without a switch argument (or with your own) */
  ofctlRaw(...args: string[]): Promise<RunResult>;
  /** `ovs-appctl -t <vswitchd unixctl> ARGS`; stdout */
  appctl(...args: string[]): Promise<string>;
  /** `unix:<dir>/<br>.mgmt` */
  mgmt(br: string): string;
  addBridge(br: string, opts?: BridgeOptions): Promise<void>;
  delBridge(br: string): Promise<void>;
  /**
   * Replace the bridge's controllers (empty: none). Note OVS deletes every flow of the bridge
   * when it goes from no controller to some or from some to none (bridge.c: had_primary).
   */
  setControllers(br: string, targets: readonly string[], opts?: { maxBackoffMs?: number; inactivityProbeMs?: number }): Promise<void>;
  /** flows of br (optionally one table), sorted by table, priority (high first), match */
  dumpFlows(br: string, opts?: { table?: number }): Promise<FlowEntry[]>;
  dumpAggregate(br: string): Promise<Aggregate>;
  /**
   * Until every controller of br (or the given target) is connected (OpenFlow hello done).
   * Reads vswitchd's log (immediate) and the Controller table's is_connected (refreshed by
   * vswitchd only every few seconds), whichever says so first.
   */
  waitForConnected(br: string, opts?: { target?: string; timeoutMs?: number }): Promise<void>;
  /** Until no controller of br (or the given target) is connected. */
  waitForDisconnected(br: string, opts?: { target?: string; timeoutMs?: number }): Promise<void>;
  /**
   * Stop ovs-vswitchd (SIGTERM by default, SIGKILL for a crash) and start it again on the same
   * database; resolves when every bridge answers on its mgmt socket. OpenFlow state (flows,
   * groups, meters) is gone; bridges, ports and controllers come back from the database.
   */
  restart(opts?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
  /** stop vswitchd and ovsdb-server by pid (bounded), stop the watchdog, remove the directory */
  stop(): Promise<void>;
  /** the last lines of each log file, for error messages */
  logTail(lines?: number): string;
}

// ───────────────────────────── small utilities ─────────────────────────────

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined/false, or
 * throws after `timeoutMs` with `what` and the last probe error.
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs: number; what: string; intervalMs?: number; detail?: () => string },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? `; last error: ${last.message}` : '';
      throw new OvsError(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${why}${opts.detail ? '\n' + opts.detail() : ''}`);
    }
    await sleep(opts.intervalMs ?? 50);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** true while a process with this pid exists (and is not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

function tailOf(file: string, lines: number): string {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      return buf.toString('utf8').split('\n').filter((l) => l.length > 0).slice(-lines).join('\n');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '(none)';
  }
}

function dpidHex(dpid: number | bigint | string): string {
  const s = typeof dpid === 'string' ? dpid.replace(/^0x/i, '').replace(/:/g, '') : BigInt(dpid).toString(16);
  if (!/^[0-9a-fA-F]{1,16}$/.test(s)) throw new OvsError(`bad datapath id: ${String(dpid)}`);
  return s.padStart(16, '0').toLowerCase();
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 16) || 'ovs';
}

// ───────────────────────────── process tracking ─────────────────────────────

interface Daemon {
  readonly label: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  done: boolean;
}

/** Synchronous clean-ups of the harnesses still running, for the process `exit` hook. */
const atExit = new Set<() => void>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const fn of atExit) {
      try { fn(); } catch { /* best effort */ }
    }
  });
}

function spawnDaemon(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, outFile: string, opts: { detached?: boolean } = {}): Daemon {
  const fd = openSync(outFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd], detached: opts.detached ?? false });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new OvsError(`could not start ${label} (${cmd})`);
  // a test that forgets stop() still exits; the exit hook then kills the daemon
  child.unref();
  const pid = child.pid;
  const d: Daemon = {
    label, child, pid, done: false,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => { d.done = true; resolve({ code, signal }); });
      child.once('error', () => { d.done = true; resolve({ code: null, signal: null }); });
    }),
  };
  return d;
}

/** SIGTERM (or `signal`), wait up to `graceMs`, then SIGKILL and wait up to 5 s more. */
async function stopDaemon(d: Daemon | undefined, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000, group = false): Promise<void> {
  if (!d || d.done) return;
  const target = group ? -d.pid : d.pid;
  // a referenced timer: the daemons are unref'd, so this keeps the process alive while we wait
  const exitedWithin = async (ms: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([d.exited.then(() => true), new Promise<false>((res) => { timer = setTimeout(() => res(false), ms); })]);
    clearTimeout(timer);
    return r;
  };
  try { process.kill(target, signal); } catch { /* already gone */ }
  if (await exitedWithin(graceMs)) return;
  try { process.kill(target, 'SIGKILL'); } catch { /* already gone */ }
  if (!(await exitedWithin(5000))) {
    throw new OvsError(`${d.label} (pid ${d.pid}) did not exit after SIGKILL`);
  }
}

// The watchdog: if this Node process dies without cleaning up, kill the daemons whose
// command line names our directory (so a recycled pid is never hit) and remove the directory.
const WATCHDOG = `
parent=$1; dir=$2; keep=$3
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
for f in "$dir"/*.pid; do
  [ -f "$f" ] || continue
  p=$(cat "$f" 2>/dev/null)
  case "$p" in ''|*[!0-9]*) continue;; esac
  if tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null | grep -qF -- "$dir"; then kill -9 "$p" 2>/dev/null; fi
done
[ "$keep" = 1 ] || rm -rf -- "$dir"
`;

// ───────────────────────────── the harness ─────────────────────────────

export async function startOvs(opts: StartOvsOptions = {}): Promise<Ovs> {
  for (const b of [BIN.ovsdbServer, BIN.vswitchd, OVS_SCHEMA]) {
    if (!existsSync(b)) throw new OvsError(`${b} not found: install Debian's openvswitch-switch (scripts/setup.sh does)`);
  }
  installExitHook();
  const name = sanitize(opts.name ?? 'ovs');
  const dir = mkdtempSync(path.join(opts.tmpRoot ?? os.tmpdir(), `nfv-ovs-${name}-`));
  const keepDir = opts.keepDir ?? process.env.NFVNODE_KEEP_OVS === '1';
  const startTimeoutMs = opts.startTimeoutMs ?? 15_000;
  const commandTimeoutMs = opts.commandTimeoutMs ?? 120_000;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVS_SYSCONFDIR: dir,
  };
  const f = (n: string) => path.join(dir, n);
  const dbSock = f('db.sock');
  const db = `unix:${dbSock}`;
  const vswitchdCtl = f('ovs-vswitchd.ctl');
  if (Buffer.byteLength(f('0123456789abcde.snoop')) > 107) {
    throw new OvsError(`temporary directory path too long for unix sockets: ${dir} (use tmpRoot)`);
  }

  let ovsdb: Daemon | undefined;
  let vswitchd: Daemon | undefined;
  let watchdog: Daemon | undefined;
  const everPids: number[] = [];
  let vswitchdLogOffset = 0;
  let stopped = false;
  const killAllSync = (): void => {
    for (const [d, group] of [[vswitchd, false], [ovsdb, false], [watchdog, true]] as const) {
      if (d && !d.done) { try { process.kill(group ? -d.pid : d.pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  atExit.add(killAllSync);

  const logFiles = ['ovsdb-server.log', 'ovs-vswitchd.log', 'ovsdb-server.out', 'ovs-vswitchd.out'];
  const logTail = (lines = 25): string =>
    logFiles.filter((n) => existsSync(f(n))).map((n) => `--- ${f(n)} (last ${lines} lines) ---\n${tailOf(f(n), lines)}`).join('\n');

  async function run(cmd: string, args: string[], timeoutMs = commandTimeoutMs): Promise<RunResult> {
    try {
      const { stdout, stderr } = await execFileP(cmd, args, {
        env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 30, encoding: 'utf8',
      });
      return { stdout, stderr };
    } catch (e) {
      const err = e as { code?: unknown; signal?: unknown; stderr?: string; killed?: boolean; message: string };
      const how = err.killed ? `killed after ${timeoutMs} ms` : err.signal ? `signal ${String(err.signal)}` : `exit code ${String(err.code)}`;
      const shown = args.map((a) => (a.length > 200 ? a.slice(0, 200) + '…' : a)).join(' ');
      throw new OvsError(`${cmd} ${shown}: ${how}\n${(err.stderr ?? err.message).trim()}\n${logTail(15)}`);
    }
  }

  const vsctlArgs = (args: string[]) => [`--db=${db}`, `--timeout=${Math.ceil(commandTimeoutMs / 1000)}`, ...args];
  const vsctl = async (...args: string[]) => (await run(BIN.vsctl, vsctlArgs(args))).stdout;
  const mgmt = (br: string) => `unix:${f(br + '.mgmt')}`;
  const ofctlRaw = (...args: string[]) => run(BIN.ofctl, ['-O', 'OpenFlow13', `--timeout=${Math.ceil(commandTimeoutMs / 1000)}`, ...args]);
  const ofctl = async (command: string, br: string, ...rest: string[]) => (await ofctlRaw(command, mgmt(br), ...rest)).stdout;
  const appctl = async (...args: string[]) => (await run(BIN.appctl, ['-t', vswitchdCtl, `--timeout=${Math.ceil(commandTimeoutMs / 1000)}`, ...args])).stdout;

  function exitedEarly(d: Daemon | undefined): void {
    if (d?.done) throw new OvsError(`${d.label} (pid ${d.pid}) exited during start-up\n${logTail()}`);
  }

  async function startVswitchd(): Promise<void> {
    vswitchdLogOffset = existsSync(f('ovs-vswitchd.log')) ? statSync(f('ovs-vswitchd.log')).size : 0;
    const args = [
      db,
      `--pidfile=${f('ovs-vswitchd.pid')}`, '--overwrite-pidfile',
      `--unixctl=${vswitchdCtl}`,
      `--log-file=${f('ovs-vswitchd.log')}`,
      '--no-chdir', '-vconsole:off', '-vsyslog:off',
      ...(opts.dummyNetdevs === false ? [] : ['--enable-dummy=override']),
      '--disable-system', '--disable-system-route',
      ...(opts.vswitchdLog ?? []).map((v) => `-v${v}`),
    ];
    vswitchd = spawnDaemon('ovs-vswitchd', BIN.vswitchd, args, env, f('ovs-vswitchd.out'));
    everPids.push(vswitchd.pid);
    const d = vswitchd;
    await waitUntil(async () => {
      exitedEarly(d);
      await run(BIN.appctl, ['-t', vswitchdCtl, '--timeout=2', 'version'], 3000);
      return true;
    }, { timeoutMs: startTimeoutMs, what: `ovs-vswitchd (pid ${d.pid}) to answer on ${vswitchdCtl}`, detail: () => logTail() });
  }

  async function bridges(): Promise<string[]> {
    return (await run(BIN.vsctl, vsctlArgs(['--no-wait', 'list-br']))).stdout.split('\n').filter((s) => s.length > 0);
  }

  async function waitBridgesUp(): Promise<void> {
    for (const br of await bridges()) {
      await waitUntil(async () => {
        exitedEarly(vswitchd);
        await run(BIN.ofctl, ['-O', 'OpenFlow13', '--timeout=2', 'show', mgmt(br)], 3000);
        return true;
      }, { timeoutMs: startTimeoutMs, what: `bridge ${br} to answer on ${mgmt(br)}`, detail: () => logTail() });
    }
  }

  async function controllerStates(br: string): Promise<{ target: string; connected: boolean }[]> {
    const uuids = (await vsctl('--no-wait', 'get', 'Bridge', br, 'controller')).trim().replace(/^\[|\]$/g, '').split(',').map((s) => s.trim()).filter((s) => s);
    const out: { target: string; connected: boolean }[] = [];
    const log = (() => {
      try { return readFileSync(f('ovs-vswitchd.log'), 'utf8').slice(vswitchdLogOffset); } catch { return ''; }
    })();
    for (const u of uuids) {
      const target = JSON.parse((await vsctl('--no-wait', 'get', 'Controller', u, 'target')).trim()) as string;
      const db = (await vsctl('--no-wait', 'get', 'Controller', u, 'is_connected')).trim() === 'true';
      // last rconn state change for this bridge and target since this vswitchd started
      // e.g. "2026-…|00079|rconn|INFO|br0<->tcp:127.0.0.1:6653: connected"
      const tag = `${br}<->${target}: `;
      let fromLog: boolean | undefined;
      for (const line of log.split('\n')) {
        const m = /\|rconn\|[A-Z]+\|(.*)$/.exec(line);
        if (!m || !m[1].startsWith(tag)) continue;
        const what = m[1].slice(tag.length);
        if (what.startsWith('connected')) fromLog = true;
        else if (/^(connection|disconnected|connecting|waiting|entering)/.test(what) || what.includes('closed') || what.includes('dropped')) fromLog = false;
      }
      out.push({ target, connected: fromLog ?? db });
    }
    return out;
  }

  async function waitConn(br: string, want: boolean, o: { target?: string; timeoutMs?: number } = {}): Promise<void> {
    let last: { target: string; connected: boolean }[] = [];
    await waitUntil(async () => {
      last = (await controllerStates(br)).filter((c) => o.target === undefined || c.target === o.target);
      if (last.length === 0) throw new OvsError(o.target ? `bridge ${br} has no controller ${o.target}` : `bridge ${br} has no controller`);
      return last.every((c) => c.connected === want);
    }, {
      timeoutMs: o.timeoutMs ?? 15_000, intervalMs: 50,
      what: `${br}'s controller${o.target ? ' ' + o.target : 's'} to be ${want ? 'connected' : 'disconnected'}`,
      detail: () => `connected: ${last.map((c) => `${c.target}=${c.connected}`).join(', ') || '(unknown)'}\n${logTail()}`,
    });
  }

  // ── start-up ──
  try {
    watchdog = spawnDaemon('watchdog', '/bin/sh', ['-c', WATCHDOG, 'nfv-ovs-watchdog', String(process.pid), dir, keepDir ? '1' : '0'], env, '/dev/null', { detached: true });
    everPids.push(watchdog.pid);

    await run(BIN.ovsdbTool, ['create', f('conf.db'), OVS_SCHEMA]);
    ovsdb = spawnDaemon('ovsdb-server', BIN.ovsdbServer, [
      f('conf.db'),
      `--remote=punix:${dbSock}`,
      `--pidfile=${f('ovsdb-server.pid')}`, '--overwrite-pidfile',
      `--unixctl=${f('ovsdb-server.ctl')}`,
      `--log-file=${f('ovsdb-server.log')}`,
      '--no-chdir', '-vconsole:off', '-vsyslog:off',
    ], env, f('ovsdb-server.out'));
    everPids.push(ovsdb.pid);
    const d = ovsdb;
    await waitUntil(async () => {
      exitedEarly(d);
      if (!existsSync(dbSock)) return false;
      await run(BIN.vsctl, [`--db=${db}`, '--timeout=2', '--no-wait', 'init'], 3000);
      return true;
    }, { timeoutMs: startTimeoutMs, what: `ovsdb-server (pid ${d.pid}) to accept 'ovs-vsctl init' on ${dbSock}`, detail: () => logTail() });
    await startVswitchd();
  } catch (e) {
    await stopDaemon(vswitchd, 'SIGKILL').catch(() => {});
    await stopDaemon(ovsdb, 'SIGKILL').catch(() => {});
    await stopDaemon(watchdog, 'SIGKILL', 2000, true).catch(() => {});
    atExit.delete(killAllSync);
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const ovs: Ovs = {
    name, dir, env, db,
    pids: () => ({
      ovsdbServer: ovsdb && !ovsdb.done ? ovsdb.pid : undefined,
      vswitchd: vswitchd && !vswitchd.done ? vswitchd.pid : undefined,
      watchdog: watchdog && !watchdog.done ? watchdog.pid : undefined,
    }),
    allPids: () => [...everPids],
    vsctl, ofctl, ofctlRaw, appctl, mgmt, logTail,

    async addBridge(br, o = {}) {
      if (!/^[A-Za-z0-9_.-]{1,15}$/.test(br)) throw new OvsError(`bad bridge name (1–15 of [A-Za-z0-9_.-]): ${br}`);
      const args = ['--', 'add-br', br, '--', 'set', 'Bridge', br, 'datapath_type=netdev',
        `fail_mode=${o.failMode ?? 'secure'}`,
        `protocols=${(o.protocols ?? ['OpenFlow13']).join(',')}`,
        'other_config:disable-in-band=true'];
      if (o.dpid !== undefined) args.push(`other_config:datapath-id=${dpidHex(o.dpid)}`);
      for (const [k, v] of Object.entries(o.otherConfig ?? {})) args.push(`other_config:${k}=${v}`);
      let next = 1;
      for (const p of o.ports ?? []) {
        const spec: PortSpec = typeof p === 'string' ? { name: p } : p;
        const ofport = spec.ofport ?? next;
        next = ofport + 1;
        args.push('--', 'add-port', br, spec.name, '--', 'set', 'Interface', spec.name, `type=${spec.type ?? 'dummy'}`, `ofport_request=${ofport}`);
      }
      await vsctl(...args);
      if (o.controllers && o.controllers.length > 0) {
        await ovs.setControllers(br, o.controllers, { maxBackoffMs: o.maxBackoffMs, inactivityProbeMs: o.inactivityProbeMs });
      }
      await waitUntil(async () => {
        await run(BIN.ofctl, ['-O', 'OpenFlow13', '--timeout=2', 'show', mgmt(br)], 3000);
        return true;
      }, { timeoutMs: startTimeoutMs, what: `bridge ${br} to answer on ${mgmt(br)}`, detail: () => logTail() });
    },

    async delBridge(br) {
      await vsctl('--if-exists', 'del-br', br);
    },

    async setControllers(br, targets, o = {}) {
      // one transaction: new Controller rows (old ones are garbage-collected), then the bridge
      const args: string[] = [];
      targets.forEach((t, i) => {
        args.push('--', `--id=@c${i}`, 'create', 'Controller', `target=${JSON.stringify(t)}`, `max_backoff=${o.maxBackoffMs ?? 1000}`);
        if (o.inactivityProbeMs !== undefined) args.push(`inactivity_probe=${o.inactivityProbeMs}`);
      });
      args.push('--', 'set', 'Bridge', br, `controller=[${targets.map((_, i) => `@c${i}`).join(',')}]`);
      await vsctl(...args);
    },

    async dumpFlows(br, o = {}) {
      const out = await ofctl('dump-flows', br, ...(o.table !== undefined ? [`table=${o.table}`] : []));
      return parseDumpFlows(out);
    },

    async dumpAggregate(br) {
      const out = await ofctl('dump-aggregate', br);
      const m = /packet_count=(\d+) byte_count=(\d+) flow_count=(\d+)/.exec(out);
      if (!m) throw new OvsError(`unexpected dump-aggregate output: ${out}`);
      return { packet_count: BigInt(m[1]), byte_count: BigInt(m[2]), flow_count: Number(m[3]) };
    },

    waitForConnected: (br, o) => waitConn(br, true, o),
    waitForDisconnected: (br, o) => waitConn(br, false, o),

    async restart(o = {}) {
      if (stopped) throw new OvsError('restart() after stop()');
      await stopDaemon(vswitchd, o.signal ?? 'SIGTERM');
      await startVswitchd();
      await waitBridgesUp();
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      const errors: unknown[] = [];
      for (const [d, group] of [[vswitchd, false], [ovsdb, false], [watchdog, true]] as const) {
        try { await stopDaemon(d, 'SIGTERM', 5000, group); } catch (e) { errors.push(e); }
      }
      atExit.delete(killAllSync);
      if (!keepDir && errors.length === 0) rmSync(dir, { recursive: true, force: true });
      if (errors.length > 0) throw new OvsError(errors.map((e) => (e as Error).message).join('\n'));
    },
  };
  return ovs;
}

// ───────────────────────────── dump-flows parsing ─────────────────────────────

const VOLATILE = new Set(['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age']);

/** Parses `ovs-ofctl dump-flows` output; volatile fields dropped; sorted (table, priority desc, match). */
export function parseDumpFlows(out: string): FlowEntry[] {
  const flows: FlowEntry[] = [];
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('OFPST_') || line.startsWith('NXST_')) continue;
    const ai = line.indexOf(' actions=');
    if (ai < 0) continue;
    const actions = line.slice(ai + ' actions='.length);
    // "cookie=0x0, duration=1s, table=0, n_packets=0, n_bytes=0, priority=100,ip,in_port=1"
    const parts = line.slice(0, ai).split(', ');
    const matchPart = parts.pop() ?? '';
    const extra: Record<string, string> = {};
    let cookie = 0n;
    let table = 0;
    for (const p of parts) {
      const eq = p.indexOf('=');
      const k = eq < 0 ? p : p.slice(0, eq);
      const v = eq < 0 ? '' : p.slice(eq + 1);
      if (VOLATILE.has(k)) continue;
      if (k === 'cookie') cookie = BigInt(v);
      else if (k === 'table') table = Number(v);
      else extra[k] = v;
    }
    // the match part may start with flags words (e.g. "send_flow_rem reset_counts priority=…")
    let match = matchPart;
    const sp = match.lastIndexOf(' ');
    if (sp >= 0) {
      for (const w of match.slice(0, sp).split(' ')) if (w) extra[w] = '';
      match = match.slice(sp + 1);
    }
    let priority = 32768;
    const fields = match.length > 0 ? match.split(',') : [];
    const kept: string[] = [];
    for (const m of fields) {
      if (m.startsWith('priority=')) priority = Number(m.slice('priority='.length));
      else kept.push(m);
    }
    const head = [
      ...(cookie !== 0n ? [`cookie=0x${cookie.toString(16)}`] : []),
      `table=${table}`,
      ...Object.entries(extra).map(([k, v]) => (v === '' ? k : `${k}=${v}`)),
    ].join(', ');
    const text = `${head}, ${[`priority=${priority}`, ...kept].join(',')} actions=${actions}`;
    flows.push({ text, cookie, table, priority, match: kept.join(','), actions, extra });
  }
  flows.sort((a, b) => a.table - b.table || b.priority - a.priority || (a.match < b.match ? -1 : a.match > b.match ? 1 : 0));
  return flows;
}
