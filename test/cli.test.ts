/** The `nfvnode` command line as a user meets it: help, decode, config errors, start. */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './helpers.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin/nfvnode.js'), ...args], { encoding: 'utf8', timeout: 60_000 });

t.test('--help on every command', async (t) => {
  for (const args of [["--help"], ["decode", "--help"], ["controller", "--help"], ["switch", "--help"], ["lab", "--help"], ["replay", "--help"], ["start", "--help"]]) {
    const r = cli(...args);
    t.equal(r.status, 0, `${args.join(' ')} exits 0`);
    t.match(r.stdout, /usage: nfvnode/, `${args.join(' ')} prints usage`);
  }
  const r = cli('frobnicate');
  t.equal(r.status, 2);
  t.match(r.stderr, /unknown command 'frobnicate'/);
});

t.test('decode: hex across arguments, errors named', async (t) => {
  const ok = cli('decode', '0400000800000001', '04140008', '00000007');
  t.equal(ok.status, 0);
  t.same(ok.stdout.trim().split('\n'), ['HELLO xid=1 version=4 elements=[]', 'BARRIER_REQUEST xid=7']);
  const bad = cli('decode', '040e000800000009');
  t.equal(bad.status, 1);
  t.match(bad.stdout, /OFPET_BAD_REQUEST\/OFPBRC_BAD_LEN/);
  t.equal(cli('decode', 'zz-not-hex').status, 2);
});

t.test('controller: a bad configuration is refused with file, line and reason', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'c.yaml');
  writeFileSync(file, 'listen: { port: 6653 }\nrole: boss\n');
  const r = cli('controller', '--config', file);
  t.equal(r.status, 2);
  t.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: role: .*`));
  writeFileSync(file, 'switches:\n  - dpid: "0x1"\n    patches: [[1, 99999999999]]\n');
  t.match(cli('controller', '--config', file).stderr, /:3: switches\.0\.patches\.0\.1: /);
  writeFileSync(file, 'listen: {\n');
  t.match(cli('controller', '--config', file).stderr, /c\.yaml:\d+: /);
});

t.test('start --once: the default topology\'s traffic through the embedded switch', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-start-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = cli('start', '--once', '--state', dir);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /\d+ flows and \d+ groups installed by the controller on nfv0/);
  // Every subscriber frame reached a network function: 500 + 200 client VLANs, 3 frames each.
  const out = (name: string) => Number(new RegExp(`${name}\\s+in\\s+\\d+\\s+out\\s+(\\d+)`).exec(r.stdout)?.[1] ?? -1);
  t.equal(out('fw1') + out('fw2') + out('fw3'), 1500, 'residential traffic spread over the three firewalls');
  t.equal(out('nat'), 600, 'business traffic to the CGNAT');
  for (const fw of ['fw1', 'fw2', 'fw3']) t.ok(out(fw) > 0, `${fw} got traffic`);
});

t.test('start: with a relative state folder the node keeps running until SIGINT, then stops cleanly', async (t) => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'nfvnode-start-run-'));
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }));
  const apiPort = 20_000 + (process.pid % 20_000);
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/nfvnode.js'), 'start', '--state', 'state', '--api-port', String(apiPort)], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let stdout = '', stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 90_000;
  while (!/nfvnode: running/.test(stdout) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.match(stdout, /nfvnode: running — controller on 127\.0\.0\.1:\d+, switch nfv0 connected/, stderr);
  t.ok(existsSync(path.join(cwd, 'state', 'nfvnode.db')), 'the store is in the state folder');
  child.kill('SIGINT');
  t.equal(await exited, 0, stderr);
});

t.test('a mistyped option or a missing value is named, exit code 2', async (t) => {
  for (const [cmd, args, want] of [
    ['switch', ['--config', 'x.yaml', '--bogus'], /nfvnode switch: unknown option --bogus/],
    ['controller', ['--confg', 'x.yaml'], /nfvnode controller: unknown option --confg/],
    ['start', ['--once', 'extra'], /nfvnode start: unexpected argument extra/],
    ['start', ['--state'], /nfvnode start: --state needs a value/],
    ['switch', ['--config'], /nfvnode switch: --config needs a value/],
  ] as const) {
    const r = cli(cmd, ...args);
    t.equal(r.status, 2, `${cmd} ${args.join(' ')}`);
    t.match(r.stderr, want);
    t.match(r.stderr, /usage: nfvnode /, 'followed by the usage');
  }
});
