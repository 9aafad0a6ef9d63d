/**
 * Actions (OpenFlow 1.3.5 §7.2.5) and the experimenter-action registry.
 *
 * Every action is `type u16, len u16, body` with len a multiple of 8. Experimenter actions
 * (type 0xFFFF) carry a 32-bit experimenter id; extensions (the BRAS PPPoE/L2TP actions,
 * `docs/openflow-extensions.md`) register a body layout under (experimenter, subtype) with
 * `registerExperimenterAction`. Unregistered ones decode to `{ type: 'EXPERIMENTER',
 * experimenter, data }` and re-encode byte for byte (Nicira actions in the test vectors).
 */
import {
  fail, badValue, checkUint, struct, union, custom, codec, u8, u16, u32, pad, H, R,
  type Case, type Codec, type Fields, type InferFields, type StructNode, type ErrPair,
} from '../schema.js';
import { OFPAT, OFPET, OFPBAC } from './enums.js';
import { oxmCodec, type OxmField } from './oxm.js';

const BAD_ACTION_LEN: ErrPair = [OFPET.BAD_ACTION, OFPBAC.BAD_LEN];
const S = <F extends Fields>(name: string, fields: F) => struct(name, fields, { err: BAD_ACTION_LEN });
const empty = S('action', { _pad: pad(4) });

export const ActionLayouts = {
  OUTPUT: S('OUTPUT', { port: u32, max_len: u16, _pad: pad(6) }),
  COPY_TTL_OUT: empty,
  COPY_TTL_IN: empty,
  SET_MPLS_TTL: S('SET_MPLS_TTL', { mpls_ttl: u8, _pad: pad(3) }),
  DEC_MPLS_TTL: empty,
  PUSH_VLAN: S('PUSH_VLAN', { ethertype: u16, _pad: pad(2) }),
  POP_VLAN: empty,
  PUSH_MPLS: S('PUSH_MPLS', { ethertype: u16, _pad: pad(2) }),
  POP_MPLS: S('POP_MPLS', { ethertype: u16, _pad: pad(2) }),
  SET_QUEUE: S('SET_QUEUE', { queue_id: u32 }),
  GROUP: S('GROUP', { group_id: u32 }),
  SET_NW_TTL: S('SET_NW_TTL', { nw_ttl: u8, _pad: pad(3) }),
  DEC_NW_TTL: empty,
  PUSH_PBB: S('PUSH_PBB', { ethertype: u16, _pad: pad(2) }),
  POP_PBB: empty,
} as const;
type L = typeof ActionLayouts;

export type ActionSetField = { readonly type: 'SET_FIELD'; readonly field: OxmField };
export type ActionExperimenter =
  | { readonly type: 'EXPERIMENTER'; readonly experimenter: number; readonly data: Uint8Array }
  | ({ readonly type: 'EXPERIMENTER'; readonly experimenter: number; readonly name: string } & Record<string, unknown>);
export type Action =
  | { [K in keyof L]: Case<K, L[K]['fields']> }[keyof L]
  | ActionSetField
  | ActionExperimenter;
export type ActionType = Action['type'];

/** SET_FIELD (§7.2.5): one OXM TLV, zero-padded so the action is a multiple of 8. */
const setField: Codec<ActionSetField> = {
  fixed: -1,
  dec(dv, b, p, end) {
    const field = oxmCodec.dec(dv, b, p, end);
    if (field.mask !== undefined) fail([OFPET.BAD_ACTION, OFPBAC.BAD_SET_ARGUMENT], 'SET_FIELD with a masked OXM', p, 'SET_FIELD');
    R.p = end;
    return { type: 'SET_FIELD', field };
  },
  enc(v, dv, b, p) {
    if (v.field === null || typeof v.field !== 'object') badValue('SET_FIELD.field', v.field, 'an OXM field');
    let q = oxmCodec.enc(v.field, dv, b, p);
    while ((q - p + 4) % 8 !== 0) b[q++] = 0;
    return q;
  },
  size(v) {
    if (v.field === null || typeof v.field !== 'object') badValue('SET_FIELD.field', v.field, 'an OXM field');
    return ((oxmCodec.size(v.field) + 4 + 7) & ~7) - 4;
  },
};

// ---------------------------------------------------------- experimenter registry

export interface ExperimenterActionDef<F extends Fields = Fields> {
  readonly name: string;
  readonly experimenter: number;
  /** 16-bit subtype right after the experimenter id (the Nicira/ONF convention) */
  readonly subtype: number;
  /** the layout after the subtype; the action is zero-padded to a multiple of 8 */
  readonly body: StructNode<F>;
}
const expByKey = new Map<string, { def: ExperimenterActionDef; c: Codec<any> }>();
const expByName = new Map<string, { def: ExperimenterActionDef; c: Codec<any> }>();

export function registerExperimenterAction<F extends Fields>(def: ExperimenterActionDef<F>): void {
  const k = `${def.experimenter}:${def.subtype}`;
  if (expByKey.has(k) || expByName.has(def.name)) throw new Error(`experimenter action ${def.name} is already registered`);
  const entry = { def: def as ExperimenterActionDef, c: codec(def.body) };
  expByKey.set(k, entry);
  expByName.set(def.name, entry);
}
export type RegisteredAction<F extends Fields> = { readonly type: 'EXPERIMENTER'; readonly experimenter: number; readonly name: string } & InferFields<F>;

const experimenter: Codec<ActionExperimenter> = {
  fixed: -1,
  dec(dv, b, p, end) {
    if (end - p < 4) fail(BAD_ACTION_LEN, 'experimenter action without experimenter id', p, 'EXPERIMENTER');
    const exp = dv.getUint32(p);
    const entry = end - p >= 6 ? expByKey.get(`${exp}:${(b[p + 4] << 8) | b[p + 5]}`) : undefined;
    if (entry) {
      const body = entry.c.dec(dv, b, p + 6, end);
      // what follows the body up to len is padding
      R.p = end;
      return { type: 'EXPERIMENTER', experimenter: exp, name: entry.def.name, ...body };
    }
    R.p = end;
    return { type: 'EXPERIMENTER', experimenter: exp, data: H.copy(b, p + 4, end) };
  },
  enc(v, dv, b, p) {
    dv.setUint32(p, checkUint(v.experimenter, 32, 'EXPERIMENTER.experimenter'));
    let q: number;
    if ('name' in v && typeof v.name === 'string') {
      const entry = expByName.get(v.name);
      if (!entry) badValue('EXPERIMENTER', v.name, 'a registered experimenter action');
      b[p + 4] = entry.def.subtype >>> 8; b[p + 5] = entry.def.subtype & 255;
      q = entry.c.enc(v, dv, b, p + 6);
      while ((q - p + 4) % 8 !== 0) b[q++] = 0;
    } else {
      const data = (v as { data: Uint8Array }).data;
      H.putBytes(data, b, p + 4, -1, 'EXPERIMENTER.data');
      q = p + 4 + data.length;
    }
    return q;
  },
  size(v) {
    if ('name' in v && typeof v.name === 'string') {
      const entry = expByName.get(v.name);
      if (!entry) badValue('EXPERIMENTER', v.name, 'a registered experimenter action');
      return ((4 + 4 + 2 + entry.c.size(v) + 7) & ~7) - 4;
    }
    return 4 + H.len((v as { data: Uint8Array }).data, 'EXPERIMENTER.data');
  },
};

export const action = union<Action>('action', {
  ...Object.fromEntries(Object.entries(ActionLayouts).map(([name, body]) => [OFPAT[name as keyof L], { name, body }])),
  [OFPAT.SET_FIELD]: { name: 'SET_FIELD', body: custom('SET_FIELD', setField) },
  [OFPAT.EXPERIMENTER]: { name: 'EXPERIMENTER', body: custom('EXPERIMENTER', experimenter) },
}, { lenMultiple: 8, badType: [OFPET.BAD_ACTION, OFPBAC.BAD_TYPE], badLen: BAD_ACTION_LEN });
