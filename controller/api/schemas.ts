/**
 * Shapes of the REST API's inputs and outputs (zod's v4 API): the handlers parse with them
 * and the OpenAPI document (/openapi.json) is generated from the same schemas.
 */
import { z } from 'zod/v4';
import { POLICIES, ENCAPS, DPID_RE } from '../topology/schema.js';

export const Dpid = z.string().regex(DPID_RE, 'a datapath id: 0x… hex or decimal')
  .refine((v) => !DPID_RE.test(v) || BigInt(v) < 1n << 64n, 'a datapath id fits 64 bits')
  .transform((v) => (DPID_RE.test(v) ? BigInt(v) : 0n))
  .meta({ description: 'datapath id, "0x…" (hex) or decimal', example: '0x0000000000000001' });
/** Path/query integers arrive as text. */
const intText = (min: number, max: number) => z.union([z.number(), z.string().regex(/^\d{1,10}$/, 'a decimal integer')])
  .transform((v) => Number(v)).pipe(z.number().int().min(min).max(max));
export const PortNo = intText(1, 0xffffff00).meta({ description: 'OpenFlow port number' });
export const VlanText = intText(1, 4094).meta({ description: 'VLAN id (1..4094)' });
const Name = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,62}$/, 'a name: a letter, then letters, digits, _ . - (at most 63)');
const Vlan = z.number().int().min(1).max(4094);
const Range = z.strictObject({ first: Vlan, last: Vlan }).refine((r) => r.first <= r.last, { message: 'first ≤ last', path: ['last'] });

// ---------------------------------------------------------------- inputs

export const ServiceBody = z.strictObject({
  name: Name,
  policy: z.enum(POLICIES).default('hash'),
  encap: z.enum(ENCAPS).default('rewrite'),
  nf_vlans: Range,
}).meta({ id: 'ServiceInput' });
export const ServicePut = ServiceBody.omit({ name: true }).extend({ name: Name.optional() }).meta({ id: 'ServicePut' });

export const InstanceBody = z.strictObject({
  name: Name,
  service: Name,
  dpid: Dpid,
  port: z.number().int().min(1).max(0xffffff00),
  vlan: Vlan.optional().meta({ description: 'trunk VLAN on a port shared by several instances' }),
  weight: z.number().int().min(1).max(65535).default(1),
  admin: z.enum(['active', 'drained']).default('active'),
}).meta({ id: 'InstanceInput' });
export const InstancePut = InstanceBody.omit({ name: true }).extend({ name: Name.optional() }).meta({ id: 'InstancePut' });
export const InstancePatch = z.strictObject({
  weight: z.number().int().min(1).max(65535).optional(),
  admin: z.enum(['active', 'drained']).optional(),
}).refine((p) => p.weight !== undefined || p.admin !== undefined, { message: 'nothing to change: give weight and/or admin' }).meta({ id: 'InstancePatch' });

export const VlanEntryBody = z.strictObject({
  dpid: Dpid,
  port: z.number().int().min(1).max(0xffffff00).meta({ description: 'subscriber port' }),
  vlan: Vlan.meta({ description: 'client VLAN' }),
  service: Name,
  instance: Name.optional().meta({ description: 'pin to this instance (static map)' }),
  nf_vlan: Vlan.optional().meta({ description: 'chosen NF VLAN (encap rewrite)' }),
}).meta({ id: 'VlanEntryInput' });
export const VlanEntriesBody = z.union([
  VlanEntryBody,
  z.strictObject({ entries: z.array(VlanEntryBody).min(1).max(200_000) }),
]).meta({ id: 'VlanEntriesInput', description: 'one entry, or {entries: [...]} (all or none)' });
export const VlanEntryPut = VlanEntryBody.omit({ dpid: true, port: true, vlan: true }).meta({ id: 'VlanEntryPut' });

export const VlanQuery = z.strictObject({
  dpid: Dpid.optional(),
  port: PortNo.optional(),
  service: Name.optional(),
  instance: Name.optional(),
  offset: intText(0, 1e9).default(0),
  limit: intText(1, 100_000).default(1000),
});
export const InstanceQuery = z.strictObject({ service: Name.optional(), dpid: Dpid.optional() });
export const FlowQuery = z.strictObject({
  table: intText(0, 254).optional(),
  owner: Name.optional(),
  source: z.enum(['desired', 'switch']).default('desired').meta({ description: 'desired: the store; switch: a flow-stats request to the switch (counters included)' }),
});
export const NameParam = z.strictObject({ name: Name });
export const DpidParam = z.strictObject({ dpid: Dpid });
export const VlanParam = z.strictObject({ dpid: Dpid, port: PortNo, vlan: VlanText });

// ---------------------------------------------------------------- outputs

export const ErrorOut = z.object({
  error: z.enum(['bad_request', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'unsupported_media_type', 'payload_too_large', 'unavailable', 'internal']),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
}).meta({ id: 'Error' });

export const ServiceOut = z.object({
  id: z.number().int(), name: z.string(), policy: z.enum(POLICIES), encap: z.enum(ENCAPS),
  nf_vlans: z.object({ first: z.number().int(), last: z.number().int() }),
  instances: z.number().int(), subscribers: z.number().int(),
}).meta({ id: 'Service' });
export const InstanceOut = z.object({
  id: z.number().int(), name: z.string(), service: z.string(), dpid: z.string(), port: z.number().int(),
  vlan: z.number().int().optional(), weight: z.number().int(), admin: z.enum(['active', 'drained']),
  live: z.boolean().meta({ description: 'the NF port is up' }), subscribers: z.number().int(), group_id: z.number().int(),
}).meta({ id: 'Instance' });
export const VlanEntryOut = z.object({
  dpid: z.string(), port: z.number().int(), vlan: z.number().int(), service: z.string(),
  instance: z.string().nullable(), nf_vlan: z.number().int(), pinned: z.boolean(),
}).meta({ id: 'VlanEntry' });
export const VlanListOut = z.object({ total: z.number().int(), offset: z.number().int(), entries: z.array(VlanEntryOut) }).meta({ id: 'VlanList' });
export const DatapathOut = z.object({
  dpid: z.string(), state: z.enum(['connecting', 'reconciling', 'ready', 'standby', 'down']), connected: z.boolean(),
  peer: z.string().nullable(), n_tables: z.number().int().nullable(), ports: z.number().int(), flows_desired: z.number().int(),
}).meta({ id: 'Datapath' });
export const PortOut = z.object({
  port_no: z.number().int(), name: z.string(), hw_addr: z.string(), config: z.number().int(), state: z.number().int(),
  live: z.boolean(), curr_speed: z.number().int(),
}).meta({ id: 'Port' });
export const FlowOut = z.object({
  owner: z.string().optional(), table_id: z.number().int(), priority: z.number().int(), cookie: z.string(),
  match: z.array(z.record(z.string(), z.unknown())), instructions: z.array(z.record(z.string(), z.unknown())),
  text: z.string().meta({ description: 'one line, ovs-ofctl-like' }),
  packet_count: z.string().optional(), byte_count: z.string().optional(),
}).meta({ id: 'Flow' });
export const ReconcileOut = z.record(z.string(), z.number()).meta({ id: 'ReconcileReport' });
