/**
 * The northbound REST API (fastify): datapaths, ports and flows (read), NSOD services,
 * instances and the VLAN table (read and change), Prometheus /metrics and the OpenAPI
 * document at /openapi.json. Reference: docs/rest-api.md.
 *
 * Routes are data (`routes()` below): method, path, the zod schemas of params, query and
 * body, the answers, and a handler. The same table registers the fastify routes and
 * generates the OpenAPI document, so the two cannot drift.
 *
 * Errors are JSON `{error, message, details}` with a 4xx status: 400 bad_request (the
 * input does not have the documented shape; details.issues lists each problem with its
 * path), 401 unauthorized (a change without a valid `Authorization: Bearer TOKEN`), 403
 * forbidden (no token configured: the API is read-only), 404 not_found (unknown id or
 * path), 409 conflict (the change contradicts the state, e.g. a service that still has
 * instances), 413 and 415 (body too large, not JSON).
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod/v4';
import { decode, format, type Msg } from '../of13/index.js';
import { flowStatsRequest } from '../of13/builders.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Datapath } from '../runtime/datapath.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../log.js';
import { NsodError, ffGroupId, type Instance, type Service, type Subscriber } from '../../apps/nsod/model.js';
import type { Nsod } from '../../apps/nsod/nsod.js';
import { portLive } from '../../apps/nsod/app.js';
import { controllerMetrics, CONTENT_TYPE, type ControllerMetrics } from './metrics.js';
import { openApiDocument, type RouteDoc } from './openapi.js';
import * as S from './schemas.js';
import { flattenIssue } from '../topology/loader.js';

export interface ApiOptions {
  readonly runtime: Runtime;
  readonly store: Store;
  /** NSOD state; without it the NSOD routes answer 404 */
  readonly nsod?: Nsod;
  readonly log?: Logger;
  readonly host?: string;
  /** 0: any free port */
  readonly port?: number;
  /** Bearer token for changes; undefined or empty: the API is read-only */
  readonly token?: string;
}

export interface RunningApi {
  readonly app: FastifyInstance;
  readonly address: { host: string; port: number };
  readonly url: string;
  readonly metrics: ControllerMetrics;
  stop(): Promise<void>;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly error: z.infer<typeof S.ErrorOut>['error'], message: string, readonly details: Record<string, unknown> = {}) { super(message); }
}

interface Input { params: any; query: any; body: any }
interface Answer { status?: number; body?: unknown; type?: string }
interface Route extends RouteDoc {
  handler(input: Input, req: FastifyRequest): Promise<Answer> | Answer;
}

const hexDpid = (d: bigint) => '0x' + d.toString(16).padStart(16, '0');

/** JSON with 64-bit values as decimal text and bytes as hex. */
function json(v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') return x.toString();
    if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.length).toString('hex');
    if (x && x.type === 'Buffer' && Array.isArray(x.data)) return Buffer.from(x.data).toString('hex');
    return x;
  });
}

function parse<T extends z.ZodType>(schema: T | undefined, value: unknown, where: 'path' | 'query' | 'body'): z.output<T> | undefined {
  if (!schema) return undefined;
  const r = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (r.success) return r.data;
  const issues = r.error.issues.map((raw) => {
    const i = flattenIssue(raw as Parameters<typeof flattenIssue>[0]);
    return { path: i.path.map(String).join('.'), message: i.message, ...(i.keys ? { keys: i.keys } : {}) };
  });
  const first = issues[0];
  const what = where === 'body' && value === undefined ? 'a JSON body is required' : `${where}${first.path ? ` ${first.path}` : ''}: ${first.message}${first.keys ? ` (${first.keys.join(', ')})` : ''}`;
  throw new ApiError(400, 'bad_request', what, { in: where, issues });
}

function nsodOf(nsod: Nsod | undefined): Nsod {
  if (!nsod) throw new ApiError(404, 'not_found', 'NSOD is not running in this controller');
  return nsod;
}

function datapathOf(runtime: Runtime, dpid: bigint): Datapath {
  const dp = runtime.datapaths.get(dpid);
  if (!dp) throw new ApiError(404, 'not_found', `no datapath ${hexDpid(dpid)}`, { dpid: hexDpid(dpid) });
  return dp;
}

function flowOut(m: Msg<'FLOW_MOD'> | (Msg<'MULTIPART_REPLY'> & { mp_type: 'FLOW' })['body'][number], owner?: string): z.input<typeof S.FlowOut> {
  const text = 'command' in m ? format(m).replace(/^FLOW_MOD( xid=\S+)?\s*/, '') : `table=${m.table_id} priority=${m.priority}`;
  return {
    ...(owner !== undefined ? { owner } : {}),
    table_id: m.table_id, priority: m.priority, cookie: '0x' + m.cookie.toString(16),
    match: m.match as unknown as Record<string, unknown>[], instructions: m.instructions as unknown as Record<string, unknown>[],
    text,
    ...('packet_count' in m ? { packet_count: m.packet_count.toString(), byte_count: m.byte_count.toString() } : {}),
  };
}

function serviceOut(nsod: Nsod, s: Service): z.input<typeof S.ServiceOut> {
  let subs = 0;
  for (const _ of nsod.subscribers({ service: s.name })) subs++;
  return { ...s, nf_vlans: { ...s.nf_vlans }, instances: nsod.instances({ service: s.name }).length, subscribers: subs };
}

function instanceOut(nsod: Nsod, i: Instance, served?: Map<string | null, number>): z.input<typeof S.InstanceOut> {
  const n = served ? served.get(i.name) ?? 0 : [...nsod.subscribers({ instance: i.name })].length;
  return { ...i, dpid: hexDpid(i.dpid), live: nsod.isLive(i), subscribers: n, group_id: ffGroupId(i) };
}

const entryOut = (s: Subscriber): z.input<typeof S.VlanEntryOut> => ({ ...s, dpid: hexDpid(s.dpid) });

const OK = (description: string, schema?: z.ZodType) => ({ description, ...(schema ? { schema } : {}) });

/** The route table. */
function routes(o: ApiOptions, metrics: ControllerMetrics, openapi: () => unknown): Route[] {
  const { runtime, store } = o;
  const nsod = () => nsodOf(o.nsod);
  return [
    // ------------------------------------------------------------ meta
    {
      method: 'GET', url: '/openapi.json', tag: 'meta', summary: 'This API as an OpenAPI 3.1 document',
      responses: { 200: OK('the OpenAPI document') },
      handler: () => ({ body: openapi() }),
    },
    {
      method: 'GET', url: '/metrics', tag: 'meta', summary: 'Prometheus metrics (text exposition format 0.0.4)',
      responses: { 200: OK('metrics text') },
      handler: async () => ({ body: await metrics.registry.exposition(), type: CONTENT_TYPE }),
    },
    // ------------------------------------------------------------ datapaths
    {
      method: 'GET', url: '/api/v1/datapaths', tag: 'datapaths', summary: 'Known datapaths',
      responses: { 200: OK('datapaths', z.array(S.DatapathOut)) },
      handler: () => ({ body: [...runtime.datapaths.values()].map((dp) => datapathOut(dp)) }),
    },
    {
      method: 'GET', url: '/api/v1/datapaths/:dpid', tag: 'datapaths', summary: 'One datapath', params: S.DpidParam,
      responses: { 200: OK('the datapath', S.DatapathOut), 404: OK('unknown datapath', S.ErrorOut) },
      handler: ({ params }) => ({ body: datapathOut(datapathOf(runtime, params.dpid)) }),
    },
    {
      method: 'GET', url: '/api/v1/datapaths/:dpid/ports', tag: 'datapaths', summary: 'Ports of a datapath (as last reported by the switch)', params: S.DpidParam,
      responses: { 200: OK('ports', z.array(S.PortOut)), 404: OK('unknown datapath', S.ErrorOut) },
      handler: ({ params }) => ({
        body: [...datapathOf(runtime, params.dpid).ports.values()].sort((a, b) => a.port_no - b.port_no).map((p) => ({
          port_no: p.port_no, name: p.name, hw_addr: p.hw_addr, config: p.config, state: p.state, live: portLive(p), curr_speed: p.curr_speed,
        })),
      }),
    },
    {
      method: 'GET', url: '/api/v1/datapaths/:dpid/flows', tag: 'datapaths', summary: 'Flows of a datapath: desired (store) or installed (the switch)',
      params: S.DpidParam, query: S.FlowQuery,
      responses: { 200: OK('flows', z.array(S.FlowOut)), 404: OK('unknown datapath', S.ErrorOut), 409: OK('source=switch but the switch is not connected', S.ErrorOut) },
      handler: async ({ params, query }) => {
        const dpid: bigint = params.dpid;
        if (query.source === 'switch') {
          const dp = datapathOf(runtime, dpid);
          if (!dp.conn) throw new ApiError(409, 'conflict', `datapath ${hexDpid(dpid)} is not connected`, { dpid: hexDpid(dpid) });
          const parts = await dp.conn.multipart(flowStatsRequest(dp.conn.nextXid(), query.table ?? 0xff), 10_000);
          return { body: parts.flatMap((p) => (p.mp_type === 'FLOW' ? p.body : [])).map((f) => flowOut(f)) };
        }
        if (!runtime.datapaths.has(dpid) && !store.flows(dpid).length) datapathOf(runtime, dpid);
        const rows = store.flows(dpid, query.owner);
        const out = [];
        for (const r of rows) {
          const m = decode(r.wire) as Msg<'FLOW_MOD'>;
          if (query.table !== undefined && m.table_id !== query.table) continue;
          out.push(flowOut(m, r.owner));
        }
        return { body: out };
      },
    },
    {
      method: 'POST', url: '/api/v1/datapaths/:dpid/reconcile', tag: 'datapaths', auth: true, summary: 'Reconcile a datapath with the desired state now',
      params: S.DpidParam,
      responses: { 200: OK('what the reconciliation changed', S.ReconcileOut), 404: OK('unknown datapath', S.ErrorOut), 409: OK('not connected, or not master', S.ErrorOut) },
      handler: async ({ params }) => {
        const dp = datapathOf(runtime, params.dpid);
        if (!dp.conn) throw new ApiError(409, 'conflict', `datapath ${dp.id} is not connected`);
        if (!runtime.isMaster) throw new ApiError(409, 'conflict', 'this controller instance is standby (not master)');
        return { body: await runtime.reconcile(dp) };
      },
    },
    // ------------------------------------------------------------ services
    {
      method: 'GET', url: '/api/v1/services', tag: 'nsod', summary: 'NSOD services',
      responses: { 200: OK('services', z.array(S.ServiceOut)) },
      handler: () => ({ body: nsod().services().map((s) => serviceOut(nsod(), s)) }),
    },
    {
      method: 'POST', url: '/api/v1/services', tag: 'nsod', auth: true, summary: 'Create a service', body: S.ServiceBody,
      responses: { 201: OK('created', S.ServiceOut), 400: OK('bad input', S.ErrorOut), 409: OK('a service of that name exists', S.ErrorOut) },
      handler: ({ body }) => {
        if (nsod().service(body.name)) throw new ApiError(409, 'conflict', `service ${body.name} already exists (PUT /api/v1/services/${body.name} changes it)`, { service: body.name });
        return { status: 201, body: serviceOut(nsod(), nsod().putService(body).service) };
      },
    },
    {
      method: 'GET', url: '/api/v1/services/:name', tag: 'nsod', summary: 'One service', params: S.NameParam,
      responses: { 200: OK('the service', S.ServiceOut), 404: OK('unknown service', S.ErrorOut) },
      handler: ({ params }) => ({ body: serviceOut(nsod(), serviceOf(nsod(), params.name)) }),
    },
    {
      method: 'PUT', url: '/api/v1/services/:name', tag: 'nsod', auth: true, summary: 'Create or replace a service (a new encap or range re-allocates NF VLANs)',
      params: S.NameParam, body: S.ServicePut,
      responses: { 200: OK('replaced', S.ServiceOut), 201: OK('created', S.ServiceOut), 400: OK('bad input', S.ErrorOut), 409: OK('the new range cannot hold the subscribers', S.ErrorOut) },
      handler: ({ params, body }) => {
        sameName(params.name, body.name);
        const r = nsod().putService({ ...body, name: params.name });
        return { status: r.created ? 201 : 200, body: serviceOut(nsod(), r.service) };
      },
    },
    {
      method: 'DELETE', url: '/api/v1/services/:name', tag: 'nsod', auth: true, summary: 'Delete a service (it must have no instances and no subscribers)',
      params: S.NameParam,
      responses: { 204: OK('deleted'), 404: OK('unknown service', S.ErrorOut), 409: OK('still in use', S.ErrorOut) },
      handler: ({ params }) => { nsod().deleteService(params.name); return { status: 204 }; },
    },
    // ------------------------------------------------------------ instances
    {
      method: 'GET', url: '/api/v1/instances', tag: 'nsod', summary: 'NF instances', query: S.InstanceQuery,
      responses: { 200: OK('instances', z.array(S.InstanceOut)) },
      handler: ({ query }) => {
        const served = nsod().servedBy();
        return { body: nsod().instances(query).map((i) => instanceOut(nsod(), i, served)) };
      },
    },
    {
      method: 'POST', url: '/api/v1/instances', tag: 'nsod', auth: true, summary: 'Add an NF instance (scale-out: about 1/N of its service\'s subscribers move to it)', body: S.InstanceBody,
      responses: { 201: OK('created', S.InstanceOut), 400: OK('bad input or unknown service', S.ErrorOut), 409: OK('name or attachment taken', S.ErrorOut) },
      handler: ({ body }) => {
        if (nsod().instance(body.name)) throw new ApiError(409, 'conflict', `instance ${body.name} already exists (PUT or PATCH /api/v1/instances/${body.name} changes it)`, { instance: body.name });
        return { status: 201, body: instanceOut(nsod(), nsod().putInstance(body).instance) };
      },
    },
    {
      method: 'GET', url: '/api/v1/instances/:name', tag: 'nsod', summary: 'One NF instance', params: S.NameParam,
      responses: { 200: OK('the instance', S.InstanceOut), 404: OK('unknown instance', S.ErrorOut) },
      handler: ({ params }) => ({ body: instanceOut(nsod(), instanceOf(nsod(), params.name)) }),
    },
    {
      method: 'PUT', url: '/api/v1/instances/:name', tag: 'nsod', auth: true, summary: 'Create or replace an NF instance', params: S.NameParam, body: S.InstancePut,
      responses: { 200: OK('replaced', S.InstanceOut), 201: OK('created', S.InstanceOut), 400: OK('bad input', S.ErrorOut), 409: OK('conflict', S.ErrorOut) },
      handler: ({ params, body }) => {
        sameName(params.name, body.name);
        const r = nsod().putInstance({ ...body, name: params.name });
        return { status: r.created ? 201 : 200, body: instanceOut(nsod(), r.instance) };
      },
    },
    {
      method: 'PATCH', url: '/api/v1/instances/:name', tag: 'nsod', auth: true, summary: 'Change weight or admin state (drained: its subscribers move away)', params: S.NameParam, body: S.InstancePatch,
      responses: { 200: OK('changed', S.InstanceOut), 400: OK('bad input', S.ErrorOut), 404: OK('unknown instance', S.ErrorOut) },
      handler: ({ params, body }) => {
        const cur = instanceOf(nsod(), params.name);
        const r = nsod().putInstance({ ...cur, ...(body.weight !== undefined ? { weight: body.weight } : {}), ...(body.admin !== undefined ? { admin: body.admin } : {}) });
        return { body: instanceOut(nsod(), r.instance) };
      },
    },
    {
      method: 'DELETE', url: '/api/v1/instances/:name', tag: 'nsod', auth: true, summary: 'Remove an NF instance (scale-in: its subscribers are drained to the others)', params: S.NameParam,
      responses: { 204: OK('deleted'), 404: OK('unknown instance', S.ErrorOut), 409: OK('subscribers are pinned to it', S.ErrorOut) },
      handler: ({ params }) => { nsod().deleteInstance(params.name); return { status: 204 }; },
    },
    // ------------------------------------------------------------ VLAN table
    {
      method: 'GET', url: '/api/v1/vlans', tag: 'nsod', summary: 'The VLAN table (filtered, paged)', query: S.VlanQuery,
      responses: { 200: OK('entries', S.VlanListOut), 400: OK('bad query', S.ErrorOut) },
      handler: ({ query }) => {
        const { offset, limit, ...f } = query;
        const entries: z.input<typeof S.VlanEntryOut>[] = [];
        let total = 0;
        for (const s of nsod().subscribers(f)) {
          if (total >= offset && entries.length < limit) entries.push(entryOut(s));
          total++;
        }
        return { body: { total, offset, entries } };
      },
    },
    {
      method: 'POST', url: '/api/v1/vlans', tag: 'nsod', auth: true, summary: 'Add or change VLAN table entries (one, or {entries: [...]}; all or none)', body: S.VlanEntriesBody,
      responses: { 200: OK('stored entries', z.array(S.VlanEntryOut)), 400: OK('bad input, unknown service or instance', S.ErrorOut), 409: OK('NF VLANs exhausted or taken, NF port', S.ErrorOut) },
      handler: ({ body }) => {
        const list = 'entries' in body ? body.entries : [body];
        return { body: nsod().putSubscribers(list).map(entryOut) };
      },
    },
    {
      method: 'GET', url: '/api/v1/vlans/:dpid/:port/:vlan', tag: 'nsod', summary: 'One VLAN table entry', params: S.VlanParam,
      responses: { 200: OK('the entry', S.VlanEntryOut), 404: OK('no such entry', S.ErrorOut) },
      handler: ({ params }) => {
        const s = nsod().subscriber(params.dpid, params.port, params.vlan);
        if (!s) throw new ApiError(404, 'not_found', `no VLAN table entry for vlan ${params.vlan} on port ${params.port} of datapath ${hexDpid(params.dpid)}`, { dpid: hexDpid(params.dpid), port: params.port, vlan: params.vlan });
        return { body: entryOut(s) };
      },
    },
    {
      method: 'PUT', url: '/api/v1/vlans/:dpid/:port/:vlan', tag: 'nsod', auth: true, summary: 'Create or replace one VLAN table entry', params: S.VlanParam, body: S.VlanEntryPut,
      responses: { 200: OK('stored', S.VlanEntryOut), 400: OK('bad input', S.ErrorOut), 409: OK('conflict', S.ErrorOut) },
      handler: ({ params, body }) => ({ body: entryOut(nsod().putSubscribers([{ ...body, dpid: params.dpid, port: params.port, vlan: params.vlan }])[0]) }),
    },
    {
      method: 'DELETE', url: '/api/v1/vlans/:dpid/:port/:vlan', tag: 'nsod', auth: true, summary: 'Delete one VLAN table entry', params: S.VlanParam,
      responses: { 204: OK('deleted'), 404: OK('no such entry', S.ErrorOut) },
      handler: ({ params }) => { nsod().deleteSubscriber(params.dpid, params.port, params.vlan); return { status: 204 }; },
    },
  ];

  function datapathOut(dp: Datapath): z.input<typeof S.DatapathOut> {
    return {
      dpid: dp.id, state: dp.state$.value, connected: dp.conn !== null, peer: dp.conn?.peer ?? null,
      n_tables: dp.info?.features.n_tables ?? null, ports: [...dp.ports.keys()].filter((p) => p <= 0xffffff00).length,
      flows_desired: (store.db.prepare('SELECT count(*) AS n FROM flows WHERE dpid = ?').get(dp.dpid.toString()) as { n: number }).n,
    };
  }
}

function serviceOf(nsod: Nsod, name: string): Service {
  const s = nsod.service(name);
  if (!s) throw new ApiError(404, 'not_found', `no service ${name}`, { service: name });
  return s;
}
function instanceOf(nsod: Nsod, name: string): Instance {
  const i = nsod.instance(name);
  if (!i) throw new ApiError(404, 'not_found', `no instance ${name}`, { instance: name });
  return i;
}
function sameName(inPath: string, inBody: string | undefined): void {
  if (inBody !== undefined && inBody !== inPath) throw new ApiError(400, 'bad_request', `body name ${inBody} differs from the path's ${inPath}`, { in: 'body', issues: [{ path: 'name', message: 'differs from the path' }] });
}

const STATUS_ERROR: Record<number, z.infer<typeof S.ErrorOut>['error']> = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 413: 'payload_too_large', 415: 'unsupported_media_type', 503: 'unavailable' };

function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof NsodError) return new ApiError(e.kind === 'not_found' ? 404 : e.kind === 'conflict' ? 409 : 400, e.kind === 'invalid' ? 'bad_request' : e.kind, e.message, e.details);
  const fe = e as { statusCode?: number; code?: string; message?: string };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(fe.statusCode, STATUS_ERROR[fe.statusCode] ?? 'bad_request', fe.message ?? 'bad request', fe.code ? { code: fe.code } : {});
  }
  return new ApiError(500, 'internal', (e as Error)?.message ?? String(e));
}

/** Build the fastify app (not listening): for tests with `app.inject`, and for startApi. */
export async function buildApi(o: ApiOptions): Promise<{ app: FastifyInstance; metrics: ControllerMetrics }> {
  const app = Fastify({ logger: false, bodyLimit: 32 * 1024 * 1024 });
  const metrics = controllerMetrics({ runtime: o.runtime, store: o.store, ...(o.nsod ? { nsod: o.nsod } : {}) });
  let doc: unknown = null;
  const table = routes(o, metrics, () => doc);
  doc = openApiDocument(table);
  const tokenHash = o.token ? createHash('sha256').update(o.token).digest() : null;

  app.setReplySerializer((payload) => json(payload));
  const sendError = (reply: FastifyReply, e: ApiError) => {
    if (e.status === 401) reply.header('www-authenticate', 'Bearer realm="nfvnode"');
    if (e.status >= 500) o.log?.error({ err: e.message }, 'REST handler failed');
    return reply.code(e.status).type('application/json').send({ error: e.error, message: e.message, details: e.details });
  };
  app.setErrorHandler((err, _req, reply) => sendError(reply, toApiError(err)));
  app.setNotFoundHandler((req, reply) => sendError(reply, new ApiError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`, { method: req.method, path: req.url.split('?')[0] })));
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.restRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.restSeconds.inc({ route }, reply.elapsedTime / 1000);
    done();
  });

  const authorize = (req: FastifyRequest) => {
    if (!tokenHash) throw new ApiError(403, 'forbidden', 'changes are disabled: the controller has no API token configured');
    const h = req.headers.authorization;
    if (!h) throw new ApiError(401, 'unauthorized', 'this change needs Authorization: Bearer TOKEN');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (!m) throw new ApiError(401, 'unauthorized', 'the Authorization header is not "Bearer TOKEN"');
    if (!timingSafeEqual(createHash('sha256').update(m[1]).digest(), tokenHash)) throw new ApiError(401, 'unauthorized', 'wrong API token');
  };

  for (const r of table) {
    app.route({
      method: r.method, url: r.url,
      handler: async (req, reply) => {
        if (r.auth) authorize(req);
        const input: Input = {
          params: parse(r.params, req.params, 'path'),
          query: parse(r.query, req.query, 'query'),
          body: parse(r.body, req.body, 'body'),
        };
        const ans = await r.handler(input, req);
        reply.code(ans.status ?? 200);
        if (ans.type) { reply.type(ans.type); return reply.send(ans.body); }
        if (ans.body === undefined) return reply.send();
        return reply.type('application/json').send(ans.body);
      },
    });
  }
  return { app, metrics };
}

/** Start the REST API listening on host:port. */
export async function startApi(o: ApiOptions): Promise<RunningApi> {
  const { app, metrics } = await buildApi(o);
  await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 8080 });
  const a = app.server.address() as import('node:net').AddressInfo;
  o.log?.info({ host: a.address, port: a.port, token: !!o.token }, 'REST API listening');
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    app, metrics, address: { host: a.address, port: a.port }, url: `http://${host}:${a.port}`,
    async stop() { metrics.stop(); await app.close(); },
  };
}
