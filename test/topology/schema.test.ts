/**
 * The topology schema and loader: the shipped topologies load; every kind of mistake is
 * refused with FILE:LINE: path: reason pointing at the offending line; random and mangled
 * YAML never escapes as anything but a TopologyError; the JSON Schema file is current.
 */
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseTopology, loadTopology, TopologyError } from '../../controller/topology/loader.js';
import { topologyJsonSchemaText, SCHEMA_FILE } from '../../controller/topology/json-schema.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const TOPO = path.join(ROOT, 'topologies');

t.test('every shipped topology loads', async (t) => {
  const files = readdirSync(TOPO).filter((f) => f.endsWith('.yaml'));
  t.ok(files.includes('default.yaml') && files.includes('lab-bras.yaml'), 'default.yaml and lab-bras.yaml exist');
  for (const f of files) {
    const topo = loadTopology(path.join(TOPO, f));
    t.ok(topo.switches.length >= 1, `${f}: ${topo.switches.length} switch(es), ${topo.instances.length} instances, ${topo.subscriber_pools.length} pools`);
  }
  const d = loadTopology(path.join(TOPO, 'default.yaml'));
  t.equal(d.switches[0].datapath, 'embedded');
  t.ok(d.switches[0].ports.every((p) => p.dpdk?.startsWith('net_pcap') || p.dpdk?.startsWith('net_ring')), 'default: pcap and ring ports');
  t.same(d.services.find((s) => s.name === 'firewall')?.nf_vlans, { first: 2000, last: 2999 });
  const lab = loadTopology(path.join(TOPO, 'lab-bras.yaml'));
  t.same(new Set(lab.namespaces.map((n) => n.role)), new Set(['other', 'subscriber', 'lns', 'sip', 'uplink', 'nf']));
  t.ok(lab.switches[0].ports.every((p) => p.veth !== undefined), 'lab: veth ports');
});

t.test('the JSON Schema file is generated from the schema', async (t) => {
  const have = readFileSync(path.join(ROOT, SCHEMA_FILE), 'utf8');
  t.equal(have, topologyJsonSchemaText(), `${SCHEMA_FILE} is current (regenerate: node dist/controller/topology/json-schema.js)`);
  const js = JSON.parse(have);
  t.equal(js.additionalProperties, false, 'strict at the top level');
  t.ok(js.properties.switches.items.properties.ports, 'describes ports');
  for (const f of readdirSync(TOPO).filter((x) => x.endsWith('.yaml'))) {
    t.match(readFileSync(path.join(TOPO, f), 'utf8').split('\n')[0], /yaml-language-server: \$schema=\.\.\/controller\/topology\/topology\.schema\.json/, `${f} names the schema`);
  }
});

const GOOD = `name: t
switches:
  - name: s1
    dpid: "0x1"
    ports:
      - { no: 1, name: sub, role: subscriber, dpdk: "net_pcap0,rx_pcap=a.pcap" }
      - { no: 2, name: nf1, role: nf, veth: v-nf1 }
      - { no: 3, name: nf2, role: nf, dpdk: net_ring0 }
services:
  - { name: fw, nf_vlans: "10-20" }
instances:
  - { name: fw-1, service: fw, switch: s1, port: nf1 }
subscriber_pools:
  - { name: p, switch: s1, port: sub, vlans: "100-105", service: fw }
`;

/** Apply `edit` to GOOD and expect a refusal at `line` whose text matches `reason`. */
const BAD: [string, (s: string) => string, number, RegExp][] = [
  ['unknown top-level key', (s) => s + 'colour: blue\n', 15, /unrecognized key.*colour/i],
  ['unknown port key', (s) => s.replace('role: nf, veth: v-nf1', 'role: nf, veth: v-nf1, speed: 10'), 7, /speed/],
  ['missing switches', (s) => s.replace(/switches:[\s\S]*?services:/, 'services:'), 1, /switches/],
  ['bad dpid', (s) => s.replace('"0x1"', '"0xZZ"'), 4, /datapath id/],
  ['bad role', (s) => s.replace('role: subscriber', 'role: customer'), 6, /switches\.0\.ports\.0\.role/],
  ['two devices', (s) => s.replace('role: nf, veth: v-nf1', 'role: nf, veth: v-nf1, dpdk: net_null0'), 7, /exactly one device/],
  ['no device', (s) => s.replace(', dpdk: net_ring0', ''), 8, /exactly one device/],
  ['bad devargs', (s) => s.replace('net_ring0', 'eth0'), 8, /DPDK devargs/],
  ['long veth', (s) => s.replace('v-nf1', 'a-very-long-interface-name'), 7, /interface name/],
  ['duplicate port number', (s) => s.replace('no: 3', 'no: 2'), 8, /duplicate port number 2/],
  ['duplicate port name', (s) => s.replace('name: nf2', 'name: nf1'), 8, /duplicate port name nf1/],
  ['bad VLAN range', (s) => s.replace('"10-20"', '"20-10"'), 10, /VLAN range 20-10/],
  ['VLAN out of range', (s) => s.replace('"100-105"', '"4000-4095"'), 14, /4095/],
  ['unknown service of instance', (s) => s.replace('service: fw, switch: s1, port: nf1', 'service: ids, switch: s1, port: nf1'), 12, /unknown service ids/],
  ['instance on a subscriber port', (s) => s.replace('switch: s1, port: nf1', 'switch: s1, port: sub'), 12, /role subscriber, not nf/],
  ['instance on an unknown switch', (s) => s.replace('switch: s1, port: nf1', 'switch: s9, port: nf1'), 12, /unknown switch s9/],
  ['pool on an nf port', (s) => s.replace('port: sub, vlans', 'port: nf2, vlans'), 14, /role nf, not subscriber/],
  ['pool larger than the NF VLAN range', (s) => s.replace('"100-105"', '"100-199"'), 10, /needs 100 NF VLANs .* holds 11/],
  ['overlapping pools', (s) => s + '  - { name: q, switch: s1, port: sub, vlans: "105-106", service: fw }\n', 15, /overlap 100-105/],
  ['static entry with an instance of another switch', (s) => s + 'vlan_table:\n  - { switch: s1, port: sub, vlan: 7, service: fw, instance: nope }\n', 16, /unknown instance nope/],
  ['static nf_vlan outside the range', (s) => s + 'vlan_table:\n  - { switch: s1, port: sub, vlan: 7, service: fw, nf_vlan: 99 }\n', 16, /outside service fw's nf_vlans/],
  ['shared NF port without trunk VLANs', (s) => s.replace('instances:\n', 'instances:\n  - { name: fw-0, service: fw, switch: s1, port: nf1, vlan: 5 }\n'), 13, /shared by 2 instances/],
  ['namespace link to no switch port', (s) => s + 'namespaces:\n  - name: ns1\n    links: [ { veth: x0, peer: nowhere } ]\n', 17, /no switch port has veth nowhere/],
  ['YAML syntax error', (s) => s.replace('services:', 'services: [\n'), 11, /.+/],
  ['duplicate key', (s) => s.replace('name: t\n', 'name: t\nname: u\n'), 2, /unique|duplicate/i],
  ['not a mapping', () => '- just\n- a list\n', 1, /a topology is a mapping/],
  ['a number where a list goes', (s) => s.replace(/subscriber_pools:[\s\S]*$/, 'subscriber_pools: 3\n'), 13, /subscriber_pools/],
];

t.test('a bad file is refused with FILE:LINE: reason', async (t) => {
  t.doesNotThrow(() => parseTopology(GOOD, 'good.yaml'));
  for (const [what, edit, line, reason] of BAD) {
    const text = edit(GOOD);
    try {
      parseTopology(text, 'bad.yaml');
      t.fail(`${what}: accepted`);
    } catch (e) {
      t.type(e, TopologyError, what);
      const err = e as TopologyError;
      t.match(err.message, /^bad\.yaml:\d+: /, `${what}: FILE:LINE: prefix`);
      t.equal(err.line, line, `${what}: line ${line} (${err.message})`);
      t.match(err.message, reason, `${what}: reason`);
    }
  }
});

t.test('every issue is reported, each with its own line', async (t) => {
  const text = GOOD.replace('role: subscriber', 'role: customer').replace('"10-20"', '"20-10"');
  const err = t.throws(() => parseTopology(text, 'x.yaml')) as unknown as TopologyError;
  t.ok(err.issues.length >= 2, `${err.issues.length} issues`);
  t.ok(err.issues.some((i) => i.startsWith('x.yaml:6:')) && err.issues.some((i) => i.startsWith('x.yaml:10:')), err.issues.join('\n'));
});

t.test('a missing file', async (t) => {
  t.throws(() => loadTopology('/nonexistent/topo.yaml'), TopologyError);
});

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('random and mangled YAML: a TopologyError with a line, or a valid topology', async (t) => {
  const base = readFileSync(path.join(TOPO, 'default.yaml'), 'utf8');
  const lines = base.split('\n');
  const r = rng(12345);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const junk = ['', ' ', ':', '- ', '{', '}', '[', ']', '"', "'", '&a', '*a', '!!binary', '0x', '-1', '4095', 'null', '~', 'true', '\t', '#', '|', '>', '? ', 'ports:', 'no: 0', 'role: x'];
  let refused = 0; let accepted = 0;
  for (let i = 0; i < 1500; i++) {
    let text: string;
    const mode = i % 5;
    if (mode === 0) {
      // delete, duplicate or swap lines
      const l = [...lines];
      const a = Math.floor(r() * l.length); const b = Math.floor(r() * l.length);
      if (r() < 0.4) l.splice(a, 1); else if (r() < 0.5) l.splice(a, 0, l[b]); else [l[a], l[b]] = [l[b], l[a]];
      text = l.join('\n');
    } else if (mode === 1) {
      // insert junk at a random offset
      const at = Math.floor(r() * base.length);
      text = base.slice(0, at) + pick(junk) + base.slice(at);
    } else if (mode === 2) {
      // change a random number
      text = base.replace(/\d+/g, (m) => (r() < 0.05 ? String(Math.floor(r() * 70000) - 10) : m));
    } else if (mode === 3) {
      // random bytes
      text = Array.from({ length: Math.floor(r() * 200) }, () => String.fromCharCode(Math.floor(r() * 128))).join('');
    } else {
      // random YAML structure
      const val = (d: number): unknown => (d > 3 || r() < 0.3 ? pick([1, -1, 'x', true, null, 4096, '0x1', 'net_ring0']) : r() < 0.5
        ? Array.from({ length: Math.floor(r() * 4) }, () => val(d + 1))
        : Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [pick(['name', 'switches', 'ports', 'no', 'role', 'dpid', 'services', 'vlans', 'x']), val(d + 1)])));
      text = JSON.stringify({ name: 'r', switches: val(0), services: val(1), instances: val(1) });
    }
    try {
      parseTopology(text, 'fuzz.yaml');
      accepted++;
    } catch (e) {
      if (!(e instanceof TopologyError)) { t.fail(`case ${i} (mode ${mode}) threw ${(e as Error).name}: ${(e as Error).message}\n${text}`); return; }
      const m = /^fuzz\.yaml:(\d+): ./.exec(e.message);
      if (!m || Number(m[1]) < 1 || Number(m[1]) > text.split('\n').length + 1) { t.fail(`case ${i}: bad message ${e.message}`); return; }
      refused++;
    }
  }
  t.ok(refused > 1000, `${refused} refused, ${accepted} accepted, nothing else thrown`);
});
