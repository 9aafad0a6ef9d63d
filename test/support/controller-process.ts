/**
 * The controller as an operator runs it: `nfvnode controller --config FILE` in its own
 * process, its JSON log lines collected so tests can wait for what it reports. Stopped by
 * pid (SIGTERM, SIGKILL after a bound), also when the test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers.js';

export interface LogRecord { readonly level: number; readonly msg: string; readonly [k: string]: unknown }

export class ControllerProcess {
  readonly logs: LogRecord[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private waiters: { pred: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }[] = [];
  stderrTail = '';

  constructor(readonly configFile: string) {}

  static write(dir: string, name: string, yaml: string): ControllerProcess {
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(file, yaml);
    return new ControllerProcess(file);
  }

  get pid(): number | undefined { return this.child?.pid; }

  start(): this {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/nfvnode.js'), 'controller', '--config', this.configFile], {
      env: { ...process.env, NFVNODE_LOG: 'debug' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    let buf = '';
    child.stderr!.on('data', (c: Buffer) => {
      buf += c.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        this.stderrTail = (this.stderrTail + line + '\n').slice(-4000);
        let rec: LogRecord;
        try { rec = JSON.parse(line) as LogRecord; } catch { continue; }
        this.logs.push(rec);
        this.waiters = this.waiters.filter((w) => (w.pred(rec) ? (w.resolve(rec), false) : true));
      }
    });
    return this;
  }

  /** The first log record (from `since` on) satisfying pred, waiting up to timeoutMs. */
  waitForLog(pred: (r: LogRecord) => boolean, timeoutMs = 15_000, since = 0): Promise<LogRecord> {
    const have = this.logs.slice(since).find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`controller ${this.configFile}: no matching log line in ${timeoutMs} ms; last output:\n${this.stderrTail}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (r) => { clearTimeout(t); resolve(r); } });
    });
  }

  signal(sig: NodeJS.Signals): void { this.child?.kill(sig); }

  async kill(sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(sig);
    const t = setTimeout(() => this.child?.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }

  stop(): Promise<void> { return this.kill('SIGTERM'); }
}
