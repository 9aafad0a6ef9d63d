/**
 * One-line printer, ovs-ofctl-like, for logs and test diffs:
 *
 *   FLOW_MOD xid=7 table=0 command=ADD priority=100 match=in_port=1,eth_type=0x0800 instructions=apply_actions(output:2)
 *
 * It walks the value generically (field names are the spec's), so a new message needs no
 * printer code; only enum-valued fields are named here, from the tables in spec/enums.ts.
 */
import * as E from './spec/enums.js';
import type { Message } from './spec/messages.js';
import type { OxmField, OxmUnknown } from './spec/oxm.js';

/** Fields whose numbers read better as names, per message type ('*' = any). */
const ENUM_FIELDS: Record<string, Record<string, Record<string, number>>> = {
  FLOW_MOD: { command: E.OFPFC },
  GROUP_MOD: { command: E.OFPGC, group_type: E.OFPGT },
  METER_MOD: { command: E.OFPMC },
  PACKET_IN: { reason: E.OFPR },
  FLOW_REMOVED: { reason: E.OFPRR },
  PORT_STATUS: { reason: E.OFPPR },
  ROLE_REQUEST: { role: E.OFPCR_ROLE },
  ROLE_REPLY: { role: E.OFPCR_ROLE },
  ERROR: { err_type: E.OFPET },
};
const PORT_FIELDS = new Set(['port', 'out_port', 'in_port', 'port_no', 'watch_port']);
const SKIP = new Set(['type', 'xid']);

function hex(n: number | bigint): string { return '0x' + n.toString(16); }

function port(n: number): string {
  return n >= E.OFPP.MAX ? (E.nameOf(E.OFPP, n) ?? String(n)) : String(n);
}

export function formatOxm(f: OxmField): string {
  if (f.field === 'unknown') {
    const u = f as OxmUnknown;
    return `oxm(class=${hex(u.oxm_class)},field=${u.oxm_field}${u.hasmask ? ',masked' : ''},${bytesHex(u.body)})`;
  }
  const v = (x: unknown) => (f.field === 'eth_type' && typeof x === 'number' ? '0x' + x.toString(16).padStart(4, '0') : scalar(x));
  return `${f.field}=${v(f.value)}${f.mask !== undefined ? '/' + v(f.mask) : ''}`;
}

function bytesHex(b: Uint8Array): string {
  const s = Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
  return s.length > 64 ? `${s.slice(0, 64)}…(${b.length} bytes)` : s || '""';
}

function scalar(x: unknown): string {
  if (typeof x === 'bigint') return hex(x);
  if (x instanceof Uint8Array) return bytesHex(x);
  if (typeof x === 'string') return /[\s,()=]/.test(x) || x === '' ? JSON.stringify(x) : x;
  return String(x);
}

function action(a: Record<string, unknown>): string {
  switch (a.type) {
    case 'OUTPUT': return `output:${port(a.port as number)}${a.port === E.OFPP.CONTROLLER ? `(max_len=${a.max_len})` : ''}`;
    case 'SET_FIELD': return `set_field:${formatOxm(a.field as OxmField)}`;
    case 'GROUP': return `group:${a.group_id}`;
    default: {
      const rest = Object.entries(a).filter(([k]) => k !== 'type').map(([k, v]) => `${k}=${scalar(v)}`);
      return `${String(a.type).toLowerCase()}${rest.length ? `(${rest.join(',')})` : ''}`;
    }
  }
}

function value(key: string, v: unknown, enums: Record<string, Record<string, number>>): string {
  if (key === 'match' && Array.isArray(v)) return v.length ? v.map((f) => formatOxm(f as OxmField)).join(',') : 'any';
  if (key === 'actions' && Array.isArray(v) && v.every((a) => typeof a === 'object')) return v.length ? v.map((a) => action(a)).join(',') : 'drop';
  if (key === 'instructions' && Array.isArray(v)) {
    return v.map((i: Record<string, unknown>) => {
      const name = String(i.type).toLowerCase();
      if (Array.isArray(i.actions)) return `${name}(${value('actions', i.actions, {})})`;
      const rest = Object.entries(i).filter(([k]) => k !== 'type').map(([k, x]) => `${k}=${scalar(x)}`);
      return rest.length ? `${name}(${rest.join(',')})` : name;
    }).join(',') || 'none';
  }
  const en = enums[key];
  if (en && typeof v === 'number') return E.nameOf(en, v) ?? String(v);
  if (PORT_FIELDS.has(key) && typeof v === 'number') return port(v);
  if (Array.isArray(v)) return `[${v.map((x) => (x !== null && typeof x === 'object' && !(x instanceof Uint8Array) ? `{${fields(x as Record<string, unknown>, {})}}` : scalar(x))).join(' ')}]`;
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) return `{${fields(v as Record<string, unknown>, {})}}`;
  return scalar(v);
}

function fields(o: Record<string, unknown>, enums: Record<string, Record<string, number>>): string {
  const parts: string[] = [];
  if (typeof o.type === 'string') parts.push(o.type);
  for (const [k, v] of Object.entries(o)) {
    if (SKIP.has(k) || v === undefined) continue;
    parts.push(`${k}=${value(k, v, enums)}`);
  }
  return parts.join(' ');
}

/** The message on one line. */
export function format(msg: Message): string {
  const m = msg as unknown as Record<string, unknown>;
  const enums = ENUM_FIELDS[msg.type] ?? {};
  if (msg.type === 'ERROR' && !('experimenter' in msg)) {
    const codes = E.ERROR_CODES[msg.err_type];
    const code = codes ? E.nameOf(codes.names, msg.code) : undefined;
    return `ERROR xid=${msg.xid} ${E.nameOf(E.OFPET, msg.err_type) ?? msg.err_type}/${code ?? msg.code} data=${bytesHex(msg.data)}`;
  }
  if (msg.type === 'MULTIPART_REQUEST' || msg.type === 'MULTIPART_REPLY') {
    const body = value('body', msg.body, {});
    return `${msg.type}/${msg.mp_type} xid=${msg.xid}${msg.flags ? ' flags=more' : ''} ${body}`;
  }
  return `${msg.type} xid=${msg.xid}${Object.keys(m).length > 2 ? ' ' : ''}${fields(m, enums).replace(/^\S+ ?/, '')}`;
}
