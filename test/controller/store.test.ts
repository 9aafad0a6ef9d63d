/**
 * The store's flow identity (controller/store/flow-key.ts) and the migration that gave old
 * store files those keys (controller/store/migrations.ts, 3).
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { encode, OfpError, type Match } from '../../controller/of13/index.js';
import { flowMod } from '../../controller/of13/builders.js';
import { flowKeyOfWire } from '../../controller/store/flow-key.js';
import { MIGRATIONS } from '../../controller/store/migrations.js';
import { Store } from '../../controller/store/store.js';
import { flowKey } from '../../controller/runtime/intents.js';
import { flowAdd } from '../../controller/runtime/reconcile.js';
import type { FlowSpec } from '../../controller/runtime/intents.js';

const out = (port: number) => [{ type: 'APPLY_ACTIONS' as const, actions: [{ type: 'OUTPUT' as const, port, max_len: 0 }] }];
const wireOf = (table_id: number, priority: number, match: Match, port = 2) => encode(flowMod({ table_id, priority, match, instructions: out(port) }));

t.test('flowKeyOfWire: table, priority and the match, whatever the order of its fields', async (t) => {
  const m: Match = [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.1', mask: '255.255.255.0' }];
  const key = flowKeyOfWire(wireOf(3, 0x1234, m));
  // table 03, priority 1234, then the OXM TLVs as encoded (§7.2.3.2 headers 80000004, 80000a02, 80001908)
  t.equal(key, '031234' + '8000000400000001' + '80000a020800' + '800019080a000001ffffff00', 'hex of table, priority and OXMs');
  let bad = 0;
  const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  for (const p of perms) if (flowKeyOfWire(wireOf(3, 0x1234, p.map((i) => m[i]))) !== key) bad++;
  t.equal(bad, 0, 'every order of the three fields gives the same key');
  t.equal(flowKeyOfWire(wireOf(3, 0x1234, m, 7)), key, 'instructions are not identity');
  t.not(flowKeyOfWire(wireOf(4, 0x1234, m)), key, 'another table');
  t.not(flowKeyOfWire(wireOf(3, 0x1235, m)), key, 'another priority');
  t.not(flowKeyOfWire(wireOf(3, 0x1234, m.slice(0, 2))), key, 'a field less');
  t.not(flowKeyOfWire(wireOf(3, 0x1234, [m[0], m[1], { field: 'ipv4_dst', value: '10.0.0.1' }])), key, 'no mask is not the masked match');
  t.equal(flowKeyOfWire(wireOf(0, 0, [])), '000000', 'the empty match');
  t.equal(flowKeyOfWire(wireOf(0, 1, [{ field: 'eth_dst', value: 'AA:BB:CC:00:00:01' }])), flowKeyOfWire(wireOf(0, 1, [{ field: 'eth_dst', value: 'aa:bb:cc:00:00:01' }])),
    'values that encode alike are one flow');
  const at = Buffer.alloc(300);
  const w = wireOf(3, 0x1234, m);
  at.set(w, 100);
  t.equal(flowKeyOfWire(at, 100), key, 'read at an offset in a larger buffer');
});

t.test('flowKeyOfWire refuses what is not a whole FLOW_MOD', async (t) => {
  const w = wireOf(0, 1, [{ field: 'in_port', value: 1 }]);
  t.throws(() => flowKeyOfWire(encode({ type: 'BARRIER_REQUEST', xid: 1 })), OfpError, 'another message type');
  t.throws(() => flowKeyOfWire(w.subarray(0, 50)), OfpError, 'cut in the match header');
  t.throws(() => flowKeyOfWire(w.subarray(0, 56)), OfpError, 'cut in the OXMs');
  const longOxm = Buffer.from(w);
  longOxm[48 + 4 + 3] = 40; // the OXM says 40 payload bytes: past the match
  t.throws(() => flowKeyOfWire(longOxm), OfpError, 'an OXM running past the match');
});

/** A store file as schema version 2 wrote it: text keys from the decoded match. */
function oldStore(file: string, flows: readonly FlowSpec[], cookie: bigint): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (let v = 0; v < 2; v++) db.exec(MIGRATIONS[v] as string);
  db.pragma('user_version = 2');
  const ins = db.prepare('INSERT INTO flows (dpid, key, owner, wire) VALUES (?, ?, ?, ?)');
  for (const f of flows) ins.run('5', flowKey(f), 'app', encode(flowAdd(f, cookie, 0)));
  db.close();
}

t.test('migration 3 re-keys the flows of an old store file from their wire form', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'old.db');
  const spec = (match: Match, port = 2): FlowSpec => ({ table_id: 1, priority: 10, match, instructions: out(port) });
  const flows = [
    spec([{ field: 'in_port', value: 1 }]),
    spec([{ field: 'eth_type', value: 0x0800 }, { field: 'in_port', value: 2 }]),
    // one flow to the switch, two rows in the old text keys (MAC case): one remains
    spec([{ field: 'eth_dst', value: 'AA:00:00:00:00:01' }], 3),
    spec([{ field: 'eth_dst', value: 'aa:00:00:00:00:01' }], 4),
  ];
  oldStore(file, flows, 1n << 48n);
  const store = new Store(file);
  t.teardown(() => store.close());
  t.equal(store.schemaVersion, MIGRATIONS.length, 'migrated to the current version');
  const rows = store.flows(5n, 'app');
  t.equal(rows.length, 3, 'three flows (the MAC-case pair was one flow)');
  t.same(rows.map((r) => r.key).sort(), rows.map((r) => flowKeyOfWire(r.wire)).sort(), 'each key is its wire form\'s key');
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const w2 = encode(flowAdd(flows[1], 1n << 48n, 0));
  t.same(Buffer.from(byKey.get(flowKeyOfWire(w2))!.wire), Buffer.from(w2), 'wire forms kept as they were');
  // "AA:…" sorts before "aa:…" in the old keys: the first stays
  const mac = byKey.get(flowKeyOfWire(encode(flowAdd(flows[2], 1n << 48n, 0))))!;
  t.same(Buffer.from(mac.wire), Buffer.from(encode(flowAdd(flows[2], 1n << 48n, 0))), 'of the MAC-case pair, the first in the old key order stays');
});

t.test('migration 3 refuses a stored flow that is not a FLOW_MOD, naming it', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'bad.db');
  oldStore(file, [], 0n);
  const db = new Database(file);
  db.prepare('INSERT INTO flows (dpid, key, owner, wire) VALUES (?, ?, ?, ?)').run('9', '0/1/in_port=1', 'app', Buffer.from([4, 20, 0, 8, 0, 0, 0, 1]));
  db.close();
  t.throws(() => new Store(file), /store migration 3: the stored flow 0\/1\/in_port=1 of datapath 9 is not a FLOW_MOD/);
  const again = new Database(file);
  t.equal(again.pragma('user_version', { simple: true }), 2, 'the file stays at version 2 (the migration rolled back)');
  t.equal((again.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n, 1, 'with its row');
  again.close();
});
