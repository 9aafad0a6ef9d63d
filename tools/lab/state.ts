/**
 * What a lab made, recorded in RUN_DIR/state.json *before* each thing is made, so that
 * `lab down` removes exactly that — also after an `up` that failed or was killed half-way —
 * and never anything it did not make (an existing namespace or interface is refused by `up`,
 * not adopted).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LabProcess {
  readonly role: 'controller' | 'switch' | 'peer';
  readonly name: string;
  readonly pid: number;
  /** /proc/PID/stat start time: tells our process from a later one with the same pid */
  readonly startTime: string;
  readonly netns: string | null;
  readonly log: string;
  readonly command: readonly string[];
  /** a helper that ends by itself (not a problem when it has); down stops it if it has not */
  readonly transient?: boolean;
  /** a user-mode-linux peer: its umlpeer.sh run directory (stopped with `umlpeer.sh stop`) */
  readonly uml?: { readonly script: string; readonly runDir: string };
}

export interface LabLink {
  /** the switch-side end (a switch port's veth) and where it lives */
  readonly name: string;
  readonly netns: string | null;
  /** the other end, inside a lab namespace */
  readonly peer: string;
  readonly peerNetns: string;
}

export interface LabState {
  readonly version: 1;
  readonly name: string;
  readonly topology: string;
  readonly runDir: string;
  readonly createdAt: string;
  phase: 'starting' | 'up' | 'failed' | 'stopping';
  /** namespaces this lab created, in order */
  readonly namespaces: string[];
  /** veth pairs this lab created, in order */
  readonly links: LabLink[];
  readonly processes: LabProcess[];
  controller?: { readonly netns: string | null; readonly listen: string; readonly api: string | null; readonly token: string | null; readonly external: boolean };
  readonly switches: { readonly name: string; readonly dpid: string; readonly netns: string | null }[];
  /** what was not started, and why */
  readonly skipped: string[];
}

/** Default run directory of a lab: /run/nfvnode/lab-NAME as root, else under the temp dir. */
export function defaultRunDir(name: string): string {
  const base = process.env.NFVNODE_LAB_DIR
    ?? (process.getuid?.() === 0 ? '/run/nfvnode' : path.join(os.tmpdir(), 'nfvnode'));
  return path.join(base, `lab-${name}`);
}

export function statePath(runDir: string): string { return path.join(runDir, 'state.json'); }

export function readState(runDir: string): LabState | undefined {
  const f = statePath(runDir);
  if (!existsSync(f)) return undefined;
  const s = JSON.parse(readFileSync(f, 'utf8')) as LabState;
  if (s.version !== 1) throw new Error(`${f}: unknown state version ${String(s.version)}`);
  return s;
}

/** Write atomically (a crash leaves the old or the new file, never half of one). */
export function writeState(s: LabState): void {
  mkdirSync(s.runDir, { recursive: true, mode: 0o700 });
  const f = statePath(s.runDir);
  writeFileSync(`${f}.tmp`, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${f}.tmp`, f);
}
