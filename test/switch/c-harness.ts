/** The set-up the C datapath replay tests share: one datapath and a replay directory per test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OfswDatapath, type DatapathParams } from '../../switch/bindings.js';
import { PcapReplay } from '../../switch/replay.js';

export const EAL = '--no-huge -m 512 --no-pci --log-level=warning';

/** Run fn with a fresh datapath (one worker, `params` added) and a PcapReplay in a temporary directory; both are cleaned up. */
export async function withDatapath(prefix: string, fn: (dp: OfswDatapath, r: PcapReplay) => Promise<void>, params: Partial<DatapathParams> = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dp = OfswDatapath.create({ ealArgs: EAL, workers: 1, ...params });
  try {
    await fn(dp, new PcapReplay(dp, dir));
  } finally {
    dp.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
