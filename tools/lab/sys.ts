/**
 * The host side of a lab: network namespaces and links through iproute2 (`ip`, `ip -n NS`),
 * sysctls and offloads inside a namespace, and background processes known by pid.
 *
 * Processes are identified by pid *and* start time (field 22 of /proc/PID/stat), so that a
 * pid reused by the system after a lab process died is never signalled. Each background
 * process leads its own process group (spawned detached), so stopping it also stops what it
 * started (a shell's children); nothing is ever signalled by name.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export class LabCommandError extends Error {
  override readonly name = 'LabCommandError';
}

/** Run a command, return its stdout; failure throws with the command and its stderr. */
export function run(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 30_000, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  } catch (e) {
    const err = e as { stderr?: string; message: string; code?: string };
    const detail = (err.stderr ?? '').trim() || (err.code === 'ENOENT' ? `${cmd}: command not found` : err.message);
    throw new LabCommandError(`${[cmd, ...args].join(' ')}: ${detail}`);
  }
}

/** `ip [-n NS] ARGS…` */
export function ip(ns: string | null, ...args: string[]): string {
  return run('ip', ns ? ['-n', ns, ...args] : args);
}

/** Whether a command can be found on PATH (or is an existing path). */
export function haveCommand(cmd: string): boolean {
  if (cmd.includes('/')) return existsSync(cmd);
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) if (d && existsSync(`${d}/${cmd}`)) return true;
  return false;
}

// ------------------------------------------------------------------ namespaces and links

/** Named network namespaces (`ip netns list`: /run/netns). */
export function netnsList(): Set<string> {
  const out = run('ip', ['netns', 'list']);
  return new Set(out.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean));
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`) || netnsList().has(name);
}

/** The link named `name` in namespace `ns` (null: this process's), or undefined. */
export function linkInfo(ns: string | null, name: string): { name: string; operstate: string; flags: string[] } | undefined {
  if (ns && !netnsExists(ns)) return undefined;
  try {
    const j = JSON.parse(ip(ns, '-j', 'link', 'show', 'dev', name)) as { ifname: string; operstate: string; flags: string[] }[];
    return j[0] ? { name: j[0].ifname, operstate: j[0].operstate, flags: j[0].flags ?? [] } : undefined;
  } catch {
    return undefined;
  }
}

/** Run a command inside a namespace (null: here). */
export function inNetns(ns: string | null, cmd: string, args: readonly string[], timeoutMs?: number): string {
  return ns ? run('ip', ['netns', 'exec', ns, cmd, ...args], timeoutMs !== undefined ? { timeoutMs } : {}) : run(cmd, args, timeoutMs !== undefined ? { timeoutMs } : {});
}

/**
 * Write a sysctl inside a namespace (net.* under /proc/sys is per network namespace), given
 * as its path under /proc/sys (interface names may hold dots, so no dotted keys).
 */
export function sysctl(ns: string | null, procPath: string, value: string): void {
  const file = `/proc/sys/${procPath}`;
  if (!ns) { writeFileSync(file, value); return; }
  run('ip', ['netns', 'exec', ns, 'sh', '-c', 'echo "$1" > "$2"', 'sh', value, file]);
}

// ------------------------------------------------------------------ processes

/** Start time of a process in clock ticks since boot (/proc/PID/stat field 22), or undefined. */
export function procStartTime(pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after "pid (comm)": state is field 3, so field N is f[N - 3]
    if (f[0] === 'Z') return undefined; // a zombie has finished
    return f[22 - 3];
  } catch {
    return undefined;
  }
}

/** Whether the process we started (pid, start time) is still running. */
export function procAlive(p: { pid: number; startTime: string }): boolean {
  return procStartTime(p.pid) === p.startTime;
}

export interface Background {
  readonly pid: number;
  readonly startTime: string;
}

/**
 * Start a command in the background, detached (its own session and process group), stdout and
 * stderr appended to `log`; it outlives this process.
 */
export function spawnBackground(cmd: string, args: readonly string[], log: string, env: NodeJS.ProcessEnv = process.env): Background {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env });
    child.unref();
    if (child.pid === undefined) throw new LabCommandError(`${cmd}: could not be started`);
    const startTime = procStartTime(child.pid);
    if (startTime === undefined) throw new LabCommandError(`${[cmd, ...args].join(' ')}: exited at once (see ${log})`);
    return { pid: child.pid, startTime };
  } finally {
    closeSync(fd);
  }
}

/** The live processes of process group `pgid` (from /proc), with their start times. */
export function groupMembers(pgid: number): Background[] {
  const out: Background[] = [];
  let entries: string[];
  try { entries = readdirSync('/proc'); } catch { return out; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(f[5 - 3]) === pgid && f[0] !== 'Z') out.push({ pid: Number(e), startTime: f[22 - 3] });
    } catch { /* gone meanwhile */ }
  }
  return out;
}

export interface StopOptions {
  /** how long SIGTERM (or `politely`) gets before SIGKILL (default 5 s) */
  readonly graceMs?: number;
  /** ask it to stop some other way first (instead of SIGTERM), e.g. a control command */
  readonly politely?: () => void | Promise<void>;
}

/**
 * Stop a process we started and what runs in the process group it leads: the group's members
 * are noted while the leader is alive (so the group is certainly ours), then SIGTERM (or
 * `politely`), then SIGKILL for each noted process still there after the grace period —
 * each by pid *and* start time. Returns how the leader ended: 'gone' (before we asked),
 * 'terminated' or 'killed'.
 */
export async function stopProcess(p: Background, opts: StopOptions = {}): Promise<'gone' | 'terminated' | 'killed'> {
  if (!procAlive(p)) return 'gone';
  const members = [p, ...groupMembers(p.pid).filter((m) => m.pid !== p.pid)];
  const alive = () => members.filter(procAlive);
  const waitGone = async (ms: number) => {
    const end = Date.now() + ms;
    while (alive().length && Date.now() < end) await sleep(50);
    return alive().length === 0;
  };
  if (opts.politely) await opts.politely();
  else {
    try { process.kill(-p.pid, 'SIGTERM'); } catch {
      try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone meanwhile */ }
    }
  }
  if (await waitGone(opts.graceMs ?? 5000)) return 'terminated';
  for (const m of alive()) {
    try { process.kill(m.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  }
  await waitGone(5000);
  return 'killed';
}

/** The last `n` lines of a file (for error messages). */
export function tail(file: string, n = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}
