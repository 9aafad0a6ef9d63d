/**
 * fastadd.ts against the slow path it stands in for: whatever FLOW_MOD it takes, the codec
 * decodes, validate.ts accepts, and FlowTables would file under the same identity
 * (`${priority}|${canonMatch key}`, also as keyOfWire reads it back from the entry's bytes)
 * and canonical match (canonOfWire), with the same table,
 * priority, timeouts, flags and cookie; and it does take the common flows. Random FLOW_MODs (valid and not: missing or late
 * prerequisites, masks, duplicate fields, bad goto-tables, groups, meters, unknown fields,
 * set-fields with and without their prerequisites) and random single-byte corruptions of them.
 */
import t from 'tap';
import {
  encode, decode, OFPFC, OFPFF, OFPP, OFPG, OFP_NO_BUFFER, OFPVID_PRESENT,
  type Msg, type OxmField, type Instruction, type Action,
} from '../../controller/of13/index.js';
import { fastFlowModAdd, canonOfWire, keyOfWire } from '../../switch/agent/fastadd.js';
import { validateMatch, validateInstructions, type ValidationContext } from '../../switch/agent/validate.js';
import { checkMatchConsistency } from '../../switch/agent/match-consistency.js';
import { matchKey, canonMatch } from '../../switch/agent/flowmatch.js';
import { keyHash } from '../../switch/agent/keyindex.js';

/** xorshift32: the same cases on every run. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  return { int: (n: number) => next() % n, pick: <T>(a: readonly T[]): T => a[next() % a.length], chance: (p: number) => next() / 0x100000000 < p };
}

const ctx: ValidationContext = { nTables: 8, validPort: (p) => p >= 1 && p <= 16 };

function randomField(r: ReturnType<typeof rng>): OxmField {
  const fields: (() => OxmField)[] = [
    () => ({ field: 'in_port', value: r.pick([1, 2, 3, 0, 0xfffffffe]) }),
    () => ({ field: 'eth_type', value: r.pick([0x0800, 0x86dd, 0x0806, 0x8100]) }),
    () => ({ field: 'eth_src', value: `02:00:00:00:${r.int(256).toString(16).padStart(2, '0')}:01` }),
    () => (r.chance(0.3) ? { field: 'eth_dst', value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' } : { field: 'eth_dst', value: '02:00:00:00:00:02' }),
    () => ({ field: 'vlan_vid', value: r.pick([OFPVID_PRESENT | r.int(4096), 0, 5, 0x1fff]) }),
    () => ({ field: 'vlan_pcp', value: r.int(9) }),
    () => ({ field: 'ip_proto', value: r.pick([6, 17, 1]) }),
    () => ({ field: 'ip_dscp', value: r.pick([0, 46, 63, 64]) }),
    () => (r.chance(0.3) ? { field: 'ipv4_src', value: '10.0.0.0', mask: '255.0.0.0' } : { field: 'ipv4_src', value: `10.0.0.${r.int(256)}` }),
    () => ({ field: 'tcp_dst', value: r.int(65536) }),
    () => ({ field: 'udp_src', value: r.int(65536) }),
    () => ({ field: 'metadata', value: BigInt(r.int(1000)) }),
    () => ({ field: 'ipv6_flabel', value: r.pick([1, 0xfffff, 0x100000]) }),
    () => ({ field: 'tunnel_id', value: 7n }),
    () => ({ field: 'unknown', oxm_class: 0x8000, oxm_field: 100, hasmask: false, body: new Uint8Array([1, 2]) }),
  ];
  return r.pick(fields)();
}

function randomAction(r: ReturnType<typeof rng>): Action {
  const as: (() => Action)[] = [
    () => ({ type: 'OUTPUT', port: r.pick([1, 2, 17, 0, OFPP.CONTROLLER, OFPP.IN_PORT, OFPP.TABLE, OFPP.ANY]), max_len: r.pick([0, 128, 0xffe6, 0xffff]) }),
    () => ({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: r.pick([OFPVID_PRESENT | 10, 10]) } }),
    () => ({ type: 'SET_FIELD', field: { field: 'eth_dst', value: '02:00:00:00:00:09' } }),
    () => ({ type: 'SET_FIELD', field: { field: 'in_port', value: 1 } }),
    () => ({ type: 'SET_FIELD', field: { field: 'ip_dscp', value: r.pick([1, 63, 64]) } }),
    () => ({ type: 'SET_FIELD', field: { field: 'ipv4_dst', value: '10.9.9.9' } }),
    () => ({ type: 'SET_FIELD', field: { field: 'tcp_src', value: 80 } }),
    () => ({ type: 'SET_FIELD', field: { field: 'vlan_pcp', value: 5 } }),
    () => ({ type: 'PUSH_VLAN', ethertype: r.pick([0x8100, 0x88a8, 0x0800]) }),
    () => ({ type: 'POP_VLAN' }),
    () => ({ type: 'DEC_NW_TTL' }),
    () => ({ type: 'GROUP', group_id: 1 }),
    () => ({ type: 'SET_QUEUE', queue_id: 1 }),
  ];
  return r.pick(as)();
}

function randomInstructions(r: ReturnType<typeof rng>, table_id: number): Instruction[] {
  const out: Instruction[] = [];
  const n = r.int(4);
  for (let i = 0; i < n; i++) {
    const k = r.int(7);
    if (k <= 2) out.push({ type: r.chance(0.8) ? 'APPLY_ACTIONS' : 'WRITE_ACTIONS', actions: Array.from({ length: r.int(4) }, () => randomAction(r)) });
    else if (k === 3) out.push({ type: 'GOTO_TABLE', table_id: r.pick([table_id + 1, table_id, 7, 9]) });
    else if (k === 4) out.push({ type: 'WRITE_METADATA', metadata: 5n, metadata_mask: 0xffn });
    else if (k === 5) out.push({ type: 'CLEAR_ACTIONS' });
    else out.push({ type: 'METER', meter_id: 1 });
  }
  return out;
}

function randomFlowMod(r: ReturnType<typeof rng>, xid: number): Msg<'FLOW_MOD'> {
  const table_id = r.pick([0, 0, 1, 7, 8]);
  return {
    type: 'FLOW_MOD', xid, cookie: r.chance(0.5) ? 0n : BigInt(r.int(1 << 30)) << 20n, cookie_mask: 0n, table_id,
    command: r.chance(0.9) ? OFPFC.ADD : r.pick([OFPFC.MODIFY, OFPFC.DELETE]), idle_timeout: r.pick([0, 10]), hard_timeout: r.pick([0, 30]),
    priority: r.int(0x10000), buffer_id: r.chance(0.95) ? OFP_NO_BUFFER : 7, out_port: OFPP.ANY, out_group: OFPG.ANY,
    flags: r.pick([0, 0, OFPFF.SEND_FLOW_REM, OFPFF.CHECK_OVERLAP, OFPFF.RESET_COUNTS, 0x40]),
    match: Array.from({ length: r.int(5) }, () => randomField(r)), instructions: randomInstructions(r, table_id),
  };
}

/** What the slow path makes of the message, or undefined when it refuses it. */
function slow(raw: Uint8Array): Msg<'FLOW_MOD'> | undefined {
  try {
    const m = decode(raw);
    if (m.type !== 'FLOW_MOD') return undefined;
    validateMatch(m.match, ctx);
    validateInstructions(m.instructions, m.table_id, ctx);
    checkMatchConsistency(m.match, m.instructions);
    return m;
  } catch {
    return undefined;
  }
}

t.test('whatever the fast path takes, the slow path takes the same way', async (t) => {
  const r = rng(20261122);
  let taken = 0, slowOnly = 0, corrupted = 0, bad = 0;
  for (let i = 0; i < 20_000; i++) {
    let raw: Uint8Array;
    try {
      raw = encode(randomFlowMod(r, i + 1));
    } catch {
      continue; // a value the encoder refuses (e.g. a port beyond 32 bits): not a message
    }
    if (r.chance(0.4)) {
      raw = raw.slice();
      raw[r.int(raw.length)] ^= 1 << r.int(8);
      corrupted++;
    }
    const f = fastFlowModAdd(raw, ctx);
    const m = slow(raw);
    if (!f) { if (m && m.command === OFPFC.ADD) slowOnly++; continue; }
    taken++;
    if (!m || m.command !== OFPFC.ADD || m.buffer_id !== OFP_NO_BUFFER) {
      bad++;
      if (bad <= 5) t.fail(`taken by the fast path, refused by the slow path: ${Buffer.from(raw).toString('hex')}`);
      continue;
    }
    const same = f.key === `${m.priority}|${matchKey(m.match)}` && f.hash === keyHash(f.key) && f.table_id === m.table_id && f.priority === m.priority
      && f.idle_timeout === m.idle_timeout && f.hard_timeout === m.hard_timeout && f.flags === m.flags && BigInt(f.cookie) === m.cookie && f.wire === Buffer.from(raw.subarray(f.matchFrom)).toString("latin1") && f.matchLen === f.matchTo - f.matchFrom && keyOfWire(f.wire, f.matchLen, f.priority) === f.key
      && (m.flags & OFPFF.CHECK_OVERLAP) === 0;
    const wire = Buffer.from(raw.subarray(f.matchFrom, f.matchTo)).toString('latin1');
    const c = canonOfWire(wire, f.matchTo - f.matchFrom, f.key), d = canonMatch(m.match);
    if (c.key !== d.key || c.fields.length !== d.fields.length || c.fields.some((x, i) => x.name !== d.fields[i].name || x.value !== d.fields[i].value || x.mask !== d.fields[i].mask)) {
      bad++;
      if (bad <= 5) t.fail(`canonOfWire differs from canonMatch: ${c.key} vs ${d.key}`);
    }
    if (!same) {
      bad++;
      if (bad <= 5) t.fail(`the fast path reads it differently: ${f.key} vs ${m.priority}|${matchKey(m.match)} (${Buffer.from(raw).toString('hex')})`);
    }
  }
  t.equal(bad, 0, 'no disagreement');
  t.ok(taken > 1000, `the fast path took ${taken} messages`);
  t.ok(slowOnly > 1000, `and left ${slowOnly} valid ADDs to the slow path`);
  t.ok(corrupted > 5000, `${corrupted} of them corrupted`);
});

t.test('the flows controllers install by the hundred thousand take the fast path', async (t) => {
  const raw = encode({
    type: 'FLOW_MOD', xid: 1, cookie: 0x1234n, cookie_mask: 0n, table_id: 0, command: OFPFC.ADD, idle_timeout: 0, hard_timeout: 0,
    priority: 100, buffer_id: OFP_NO_BUFFER, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: OFPFF.SEND_FLOW_REM,
    match: [{ field: 'in_port', value: 1 }, { field: 'vlan_vid', value: OFPVID_PRESENT | 10 }, { field: 'eth_src', value: '02:00:00:00:00:01' }],
    instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'SET_FIELD', field: { field: 'vlan_vid', value: OFPVID_PRESENT | 20 } }, { type: 'OUTPUT', port: 2, max_len: 0 }] }],
  });
  const f = fastFlowModAdd(raw, ctx);
  t.ok(f, 'NSOD: in_port + vlan_vid + eth_src → set vlan_vid, output');
  t.equal(f?.key, '100|eth_src=20000000001;in_port=1;vlan_vid=100a;');
  t.equal(f?.cookie, 0x1234, "a small cookie is a number");
  const ip = encode({
    type: 'FLOW_MOD', xid: 2, cookie: 0n, cookie_mask: 0n, table_id: 1, command: OFPFC.ADD, idle_timeout: 60, hard_timeout: 0,
    priority: 10, buffer_id: OFP_NO_BUFFER, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: 0,
    match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'ipv4_dst', value: '10.1.2.3' }, { field: 'udp_dst', value: 5060 }],
    instructions: [{ type: 'WRITE_METADATA', metadata: 1n, metadata_mask: 1n }, { type: 'GOTO_TABLE', table_id: 2 }],
  });
  t.ok(fastFlowModAdd(ip, ctx), 'a media flow: IPv4/UDP with its prerequisites in order');
  const narrow: ValidationContext = { nTables: 8, matchFields: new Set(['in_port', 'vlan_vid']) };
  t.equal(fastFlowModAdd(raw, narrow), undefined, 'a field this datapath does not classify on: the slow path (and its error)');
  t.ok(fastFlowModAdd(raw, ctx), 'and taken again under the default fields');
});
