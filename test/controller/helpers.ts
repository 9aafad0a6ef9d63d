/** Start an in-process controller on a free loopback port with a temporary store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../controller/config.js';
import { startController, type RunningController } from '../../controller/controller.js';
import { silentLogger } from '../../controller/log.js';

export interface TestController extends RunningController { readonly port: number; readonly dir: string }

export async function testController(yaml: string, dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-ctl-'))): Promise<TestController> {
  // A test may bring its own listen: (TLS); otherwise an ephemeral loopback port.
  const listen = /^listen:/m.test(yaml) ? '' : 'listen: { host: 127.0.0.1, port: 0 }\n';
  const cfg = parseConfig(`${listen}store: ${path.join(dir, 'store.db')}\n${yaml}`, path.join(dir, 'config.yaml'));
  const ctl = await startController(cfg, silentLogger);
  return { ...ctl, port: ctl.listener!.address.port, dir };
}

export function removeDir(dir: string): void { rmSync(dir, { recursive: true, force: true }); }

/** Poll until pred() is true (bounded). */
export async function until(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
