/** Running `nfvnode lab` from tests as its own process (as an operator does). */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../helpers.js';

const LAB_JS = path.join(repoRoot, 'dist/tools/lab/lab.js');

/**
 * `nfvnode lab ARGS…` in a child process: the controller, switch and peers it starts outlive
 * it, as they do for an operator. Resolves with the exit status and stdout + stderr.
 */
export function labCli(args: string[]): Promise<{ rc: number; out: string }> {
  const script = `const { labCmd } = await import(${JSON.stringify(LAB_JS)}); process.exitCode = await labCmd(process.argv.slice(1));`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script, ...args], { timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ rc: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
    });
  });
}
