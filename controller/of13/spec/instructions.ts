/** Instructions (OpenFlow 1.3.5 §7.2.4): `type u16, len u16, body`, len a multiple of 8. */
import { struct, union, list, u8, u32, u64, pad, rest, type Case, type Fields, type ErrPair } from '../schema.js';
import { OFPIT, OFPET, OFPBIC, OFPBAC } from './enums.js';
import { action } from './actions.js';

const BAD_INST_LEN: ErrPair = [OFPET.BAD_INSTRUCTION, OFPBIC.BAD_LEN];
const S = <F extends Fields>(name: string, fields: F) => struct(name, fields, { err: BAD_INST_LEN });
const actions = list(action, [OFPET.BAD_ACTION, OFPBAC.BAD_LEN]);

export const InstructionLayouts = {
  GOTO_TABLE: S('GOTO_TABLE', { table_id: u8, _pad: pad(3) }),
  WRITE_METADATA: S('WRITE_METADATA', { _pad: pad(4), metadata: u64, metadata_mask: u64 }),
  WRITE_ACTIONS: S('WRITE_ACTIONS', { _pad: pad(4), actions }),
  APPLY_ACTIONS: S('APPLY_ACTIONS', { _pad: pad(4), actions }),
  CLEAR_ACTIONS: S('CLEAR_ACTIONS', { _pad: pad(4) }),
  METER: S('METER', { meter_id: u32 }),
  EXPERIMENTER: S('EXPERIMENTER', { experimenter: u32, data: rest }),
} as const;
type L = typeof InstructionLayouts;
export type Instruction = { [K in keyof L]: Case<K, L[K]['fields']> }[keyof L];
export type InstructionType = Instruction['type'];

export const instruction = union<Instruction>(
  'instruction',
  Object.fromEntries(Object.entries(InstructionLayouts).map(([name, body]) => [OFPIT[name as keyof L], { name, body }])),
  { lenMultiple: 8, badType: [OFPET.BAD_INSTRUCTION, OFPBIC.UNKNOWN_INST], badLen: BAD_INST_LEN },
);
