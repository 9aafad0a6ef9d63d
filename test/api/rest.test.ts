/**
 * The REST API (controller/api): authentication, validation with clear 4xx answers,
 * unknown ids, NSOD services/instances/VLAN table through their whole life, the OpenAPI
 * document, Prometheus metrics. In-process (fastify inject), no switch.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Store } from '../../controller/store/store.js';
import { Runtime } from '../../controller/runtime/runtime.js';
import { silentLogger } from '../../controller/log.js';
import { Nsod } from '../../apps/nsod/nsod.js';
import { nsodApp } from '../../apps/nsod/app.js';
import { buildApi, startApi } from '../../controller/api/server.js';

const TOKEN = 's3cret-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function setup(t: Test, token: string | null = TOKEN) {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-api-'));
  const store = new Store(path.join(dir, 'store.db'));
  const runtime = new Runtime({ store, log: silentLogger });
  const nsod = new Nsod(store);
  runtime.register(nsodApp, { nsod, statsIntervalMs: 0 });
  const { app, metrics } = await buildApi({ runtime, store, nsod, token: token ?? undefined, log: silentLogger });
  t.teardown(async () => { metrics.stop(); await app.close(); await runtime.stop(); store.close(); rmSync(dir, { recursive: true, force: true }); });
  const req = async (method: string, url: string, body?: unknown, headers: Record<string, string> = AUTH) => {
    const r = await app.inject({ method: method as 'GET', url, headers: { ...headers, ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    return { status: r.statusCode, body: r.body ? (r.headers['content-type']?.toString().startsWith('application/json') ? JSON.parse(r.body) : r.body) : undefined, headers: r.headers };
  };
  return { app, req, nsod, runtime, store };
}

/** An error answer: status, code, a message matching `re`. */
function isError(t: Test, r: { status: number; body: any }, status: number, error: string, re: RegExp, what: string) {
  t.equal(r.status, status, `${what}: ${status}`);
  t.equal(r.body?.error, error, `${what}: error ${error}`);
  t.match(r.body?.message, re, `${what}: ${r.body?.message}`);
  t.type(r.body?.details, 'object', `${what}: details`);
}

const SVC = { name: 'fw', policy: 'hash', encap: 'rewrite', nf_vlans: { first: 2000, last: 2999 } };

t.test('the token: changes need it, reads do not', async (t) => {
  const { req } = await setup(t);
  t.equal((await req('GET', '/api/v1/services', undefined, {})).status, 200, 'reading needs no token');
  const none = await req('POST', '/api/v1/services', SVC, {});
  isError(t, none, 401, 'unauthorized', /Authorization: Bearer/, 'no token');
  t.match(none.headers['www-authenticate'], /Bearer/);
  isError(t, await req('POST', '/api/v1/services', SVC, { authorization: 'Bearer nope' }), 401, 'unauthorized', /wrong API token/, 'wrong token');
  isError(t, await req('POST', '/api/v1/services', SVC, { authorization: `Basic ${TOKEN}` }), 401, 'unauthorized', /not "Bearer TOKEN"/, 'wrong scheme');
  isError(t, await req('DELETE', '/api/v1/instances/x', undefined, {}), 401, 'unauthorized', /Bearer/, 'delete without token');
  t.equal((await req('POST', '/api/v1/services', SVC)).status, 201, 'with the token');
});

t.test('no token configured: read-only', async (t) => {
  const { req } = await setup(t, null);
  isError(t, await req('POST', '/api/v1/services', SVC), 403, 'forbidden', /no API token configured/, 'changes disabled');
  t.equal((await req('GET', '/api/v1/services')).status, 200);
});

t.test('bad inputs are 400 with the path of each problem', async (t) => {
  const { req } = await setup(t);
  const cases: [string, string, unknown, RegExp][] = [
    ['POST', '/api/v1/services', { ...SVC, colour: 'red' }, /colour/],
    ['POST', '/api/v1/services', { ...SVC, policy: 'random' }, /body policy/],
    ['POST', '/api/v1/services', { ...SVC, nf_vlans: { first: 10, last: 5 } }, /nf_vlans\.last: first ≤ last/],
    ['POST', '/api/v1/services', { ...SVC, nf_vlans: { first: 0, last: 5000 } }, /nf_vlans\.first/],
    ['POST', '/api/v1/services', { ...SVC, name: '1bad name' }, /body name: a name/],
    ['POST', '/api/v1/services', [], /expected object/],
    ['POST', '/api/v1/instances', { name: 'a', service: 'fw', dpid: 'zz', port: 1 }, /dpid: a datapath id/],
    ['POST', '/api/v1/instances', { name: 'a', service: 'fw', dpid: '0x1', port: 0 }, /body port/],
    ['POST', '/api/v1/instances', { name: 'a', service: 'fw', dpid: '0x1', port: '3' }, /body port/],
    ['POST', '/api/v1/vlans', { dpid: '0x1', port: 1, vlan: 4095, service: 'fw' }, /body vlan: Too big/],
    ['POST', '/api/v1/vlans', { entries: [] }, /entries/],
    ['GET', '/api/v1/vlans?limit=0', undefined, /query limit/],
    ['GET', '/api/v1/vlans?bogus=1', undefined, /bogus/],
    ['GET', '/api/v1/vlans/0x1/1/5000', undefined, /path vlan/],
    ['GET', '/api/v1/datapaths/xyz', undefined, /path dpid: a datapath id/],
    ['GET', '/api/v1/datapaths/18446744073709551616', undefined, /fits 64 bits/],
    ['PATCH', '/api/v1/instances/a', {}, /nothing to change/],
    ['PUT', '/api/v1/services/fw', { ...SVC, name: 'other' }, /differs from the path/],
  ];
  for (const [m, u, b, re] of cases) {
    const r = await req(m, u, b);
    isError(t, r, 400, 'bad_request', re, `${m} ${u} ${JSON.stringify(b) ?? ''}`);
    t.ok(Array.isArray(r.body.details.issues), 'details.issues');
  }
  isError(t, await req('POST', '/api/v1/services', '{"name": "fw",', { ...AUTH, 'content-type': 'application/json' }), 400, 'bad_request', /JSON/i, 'broken JSON');
  isError(t, await req('POST', '/api/v1/services', 'name=fw', { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type', /content-type|media type/i, 'not JSON');
  isError(t, await req('POST', '/api/v1/services', undefined), 400, 'bad_request', /JSON body is required/, 'no body');
});

t.test('unknown ids are 404; conflicts are 409', async (t) => {
  const { req } = await setup(t);
  isError(t, await req('GET', '/api/v1/services/nope'), 404, 'not_found', /no service nope/, 'service');
  isError(t, await req('GET', '/api/v1/instances/nope'), 404, 'not_found', /no instance nope/, 'instance');
  isError(t, await req('PATCH', '/api/v1/instances/nope', { weight: 2 }), 404, 'not_found', /no instance nope/, 'patch instance');
  isError(t, await req('DELETE', '/api/v1/services/nope'), 404, 'not_found', /no service nope/, 'delete service');
  isError(t, await req('GET', '/api/v1/vlans/0x1/1/100'), 404, 'not_found', /no VLAN table entry/, 'vlan entry');
  isError(t, await req('DELETE', '/api/v1/vlans/0x1/1/100'), 404, 'not_found', /no VLAN table entry/, 'delete vlan entry');
  isError(t, await req('GET', '/api/v1/datapaths/0x99'), 404, 'not_found', /no datapath 0x0000000000000099/, 'datapath');
  isError(t, await req('GET', '/api/v1/datapaths/0x99/ports'), 404, 'not_found', /no datapath/, 'ports');
  isError(t, await req('POST', '/api/v1/datapaths/0x99/reconcile'), 404, 'not_found', /no datapath/, 'reconcile');
  isError(t, await req('GET', '/api/v1/nothing-here'), 404, 'not_found', /no route GET \/api\/v1\/nothing-here/, 'route');
  // references in bodies to unknown things are bad input
  isError(t, await req('POST', '/api/v1/instances', { name: 'a', service: 'nope', dpid: '0x1', port: 11 }), 400, 'bad_request', /unknown service nope/, 'unknown service in body');
  t.equal((await req('POST', '/api/v1/services', SVC)).status, 201);
  isError(t, await req('POST', '/api/v1/services', SVC), 409, 'conflict', /already exists/, 'duplicate service');
  t.equal((await req('POST', '/api/v1/instances', { name: 'a', service: 'fw', dpid: '0x1', port: 11 })).status, 201);
  isError(t, await req('POST', '/api/v1/instances', { name: 'b', service: 'fw', dpid: '0x1', port: 11 }), 409, 'conflict', /used by instance a/, 'same port');
  isError(t, await req('DELETE', '/api/v1/services/fw'), 409, 'conflict', /still has instances/, 'service in use');
  isError(t, await req('POST', '/api/v1/vlans', { dpid: '0x1', port: 1, vlan: 5, service: 'fw', instance: 'zz' }), 400, 'bad_request', /unknown instance zz/, 'unknown instance in body');
  t.equal((await req('POST', '/api/v1/vlans', { dpid: '0x1', port: 1, vlan: 5, service: 'fw', instance: 'a' })).status, 200);
  isError(t, await req('DELETE', '/api/v1/instances/a'), 409, 'conflict', /pinned/, 'pinned');
  isError(t, await req('POST', '/api/v1/vlans', { dpid: '0x1', port: 11, vlan: 5, service: 'fw' }), 409, 'conflict', /NF port/, 'subscriber on an NF port');
});

t.test('services, instances and the VLAN table through their life', async (t) => {
  const { req, nsod } = await setup(t);
  t.equal((await req('PUT', '/api/v1/services/fw', { policy: 'hash', nf_vlans: { first: 2000, last: 2999 } })).status, 201, 'PUT creates');
  const svc = await req('PUT', '/api/v1/services/fw', { policy: 'least-loaded', nf_vlans: { first: 2000, last: 2999 } });
  t.equal(svc.status, 200, 'PUT replaces');
  t.match(svc.body, { name: 'fw', policy: 'least-loaded', encap: 'rewrite', instances: 0, subscribers: 0 });
  for (const [n, p] of [['fw-1', 11], ['fw-2', 12], ['fw-3', 13]] as const) {
    const r = await req('POST', '/api/v1/instances', { name: n, service: 'fw', dpid: '0x1', port: p });
    t.equal(r.status, 201);
    t.match(r.body, { name: n, dpid: '0x0000000000000001', port: p, weight: 1, admin: 'active', live: true, subscribers: 0 });
  }
  await req('PUT', '/api/v1/services/fw', { policy: 'hash', nf_vlans: { first: 2000, last: 2999 } });
  const entries = Array.from({ length: 300 }, (_, i) => ({ dpid: '0x1', port: 1 + Math.floor(i / 100), vlan: 100 + (i % 100), service: 'fw' }));
  const put = await req('POST', '/api/v1/vlans', { entries });
  t.equal(put.status, 200);
  t.equal(put.body.length, 300, 'bulk: 300 entries');
  await new Promise((r) => setTimeout(r, 20)); // the app rebalances in a microtask
  const list = await req('GET', '/api/v1/vlans?port=2&limit=10&offset=5');
  t.match(list.body, { total: 100, offset: 5 });
  t.equal(list.body.entries.length, 10);
  t.ok(list.body.entries.every((e: any) => e.port === 2 && /^fw-[123]$/.test(e.instance) && e.nf_vlan >= 2000), 'assigned, with NF VLANs');
  const one = await req('GET', '/api/v1/vlans/1/1/100');
  t.match(one.body, { dpid: '0x0000000000000001', port: 1, vlan: 100, service: 'fw', pinned: false });
  const inst = await req('GET', '/api/v1/instances?service=fw');
  t.equal(inst.body.reduce((a: number, i: any) => a + i.subscribers, 0), 300, 'instances count their subscribers');
  // scale-out
  t.equal((await req('POST', '/api/v1/instances', { name: 'fw-4', service: 'fw', dpid: '0x1', port: 14 })).status, 201);
  await new Promise((r) => setTimeout(r, 20));
  const four = (await req('GET', '/api/v1/instances/fw-4')).body;
  t.ok(four.subscribers > 30 && four.subscribers <= 90, `fw-4 took ${four.subscribers} of 300`);
  // drain with PATCH, delete
  const drained = await req('PATCH', '/api/v1/instances/fw-4', { admin: 'drained' });
  t.match(drained.body, { admin: 'drained' });
  await new Promise((r) => setTimeout(r, 20));
  t.equal((await req('GET', '/api/v1/instances/fw-4')).body.subscribers, 0, 'drained: empty');
  t.equal((await req('DELETE', '/api/v1/instances/fw-4')).status, 204);
  t.equal((await req('GET', '/api/v1/instances/fw-4')).status, 404);
  // pin one, change it, delete it
  const pin = await req('PUT', '/api/v1/vlans/0x1/1/100', { service: 'fw', instance: 'fw-3', nf_vlan: 2999 });
  t.match(pin.body, { instance: 'fw-3', nf_vlan: 2999, pinned: true });
  t.equal((await req('DELETE', '/api/v1/vlans/0x1/1/100')).status, 204);
  t.equal(nsod.subscriberCount(), 299);
  // flows of the (not yet connected) datapath are in the store
  const flows = await req('GET', '/api/v1/datapaths/0x1/flows?table=30');
  t.equal(flows.status, 200);
  t.ok(flows.body.length >= 299, `${flows.body.length} desired flows in table 30`);
  t.match(flows.body[0], { owner: 'nsod', table_id: 30 });
  t.match(flows.body.find((f: any) => f.priority === 200).text, /vlan_vid/);
  isError(t, await req('GET', '/api/v1/datapaths/0x1/flows?source=switch'), 404, 'not_found', /no datapath/, 'switch flows of an unknown datapath');
});

t.test('the OpenAPI document describes every route', async (t) => {
  const { req, app } = await setup(t);
  const r = await req('GET', '/openapi.json');
  t.equal(r.status, 200);
  const doc = r.body;
  t.equal(doc.openapi, '3.1.0');
  const routes = app.printRoutes({ commonPrefix: false });
  for (const p of ['/api/v1/services', '/api/v1/services/{name}', '/api/v1/instances/{name}', '/api/v1/vlans/{dpid}/{port}/{vlan}', '/api/v1/datapaths/{dpid}/flows', '/metrics', '/openapi.json']) {
    t.ok(doc.paths[p], `documents ${p}`);
  }
  t.ok(routes.length > 0);
  // every $ref resolves, every change is secured
  const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
  for (const ref of new Set(refs)) t.ok(doc.components.schemas[ref.split('/').pop()!.replace('"', '')], `resolves ${ref}`);
  for (const [p, ops] of Object.entries<any>(doc.paths)) {
    for (const [m, op] of Object.entries<any>(ops)) {
      if (m !== 'get') t.same(op.security, [{ bearer: [] }], `${m.toUpperCase()} ${p} needs the token`);
      t.ok(op.responses, `${m} ${p} has responses`);
    }
  }
  t.match(doc.components.schemas.ServiceInput, { type: 'object', additionalProperties: false });
});

t.test('Prometheus metrics', async (t) => {
  const { req } = await setup(t);
  await req('POST', '/api/v1/services', SVC);
  await req('GET', '/api/v1/services/none');
  const r = await req('GET', '/metrics');
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /text\/plain; version=0\.0\.4/);
  const text: string = r.body;
  for (const m of ['nfvnode_datapaths_connected', 'nfvnode_flows_desired', 'nfvnode_flows_installed', 'nfvnode_packet_ins_total', 'nfvnode_reconciliations_total', 'nfvnode_rest_requests_total', 'nfvnode_nsod_instances', 'nfvnode_nsod_moved_total']) {
    t.match(text, new RegExp(`# TYPE ${m} (counter|gauge)`), m);
  }
  t.match(text, /nfvnode_rest_requests_total\{method="POST",route="\/api\/v1\/services",status="201"\} 1/);
  t.match(text, /nfvnode_rest_requests_total\{method="GET",route="\/api\/v1\/services\/:name",status="404"\} 1/);
  // every sample line is NAME{labels} VALUE
  for (const line of text.trim().split('\n')) {
    if (!line.startsWith('#')) t.match(line, /^[a-z_:][a-z0-9_:]*(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$/, line);
  }
});

t.test('startApi listens on a port', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-api-'));
  const store = new Store(path.join(dir, 'store.db'));
  const runtime = new Runtime({ store, log: silentLogger });
  const api = await startApi({ runtime, store, host: '127.0.0.1', port: 0, token: TOKEN });
  t.teardown(async () => { await api.stop(); await runtime.stop(); store.close(); rmSync(dir, { recursive: true, force: true }); });
  const r = await fetch(`${api.url}/api/v1/datapaths`);
  t.equal(r.status, 200);
  t.same(await r.json(), []);
  const s = await fetch(`${api.url}/api/v1/services`);
  t.equal(s.status, 404, 'without NSOD its routes answer 404');
  t.match(await s.json(), { error: 'not_found', message: /NSOD is not running/ });
});
