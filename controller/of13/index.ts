/**
 * OpenFlow 1.3.5 codec: the only place in nfvnode that knows OpenFlow wire bytes.
 * See docs/of13-codec.md for the value shapes and the error model.
 */
export * from './spec/enums.js';
export { OfpError, errorName } from './errors.js';
export { decode, encode, encodeInto, ENCODE_IN_PLACE_ROOM, encodingLength, decodeHeader, messageTypeName, type Header } from './codec.js';
export type { Message, MessageType, Msg, MultipartRequest, MultipartReply, MultipartReplyBody, MultipartRequestBody, ErrorMsg } from './spec/messages.js';
export { MessageLayouts, MultipartRequestBodies, MultipartReplyBodies } from './spec/messages.js';
export {
  OXM_BASIC, registerOxm, oxmDef, oxmDefs, checkMatch, isOxmUnknown,
  type OxmField, type OxmBasic, type OxmUnknown, type OxmDef, type Match, type OxmFieldName,
} from './spec/oxm.js';
export { registerExperimenterAction, type Action, type ActionType, type ExperimenterActionDef } from './spec/actions.js';
export type { Instruction, InstructionType } from './spec/instructions.js';
export type { Port, Bucket, MeterBand, QueueProp, TableFeatureProp, OxmId } from './spec/structs.js';
export { codeOf } from './schema.js';
export { Framer, type FramerOptions } from './framer.js';
export { format, formatOxm } from './printer.js';
export * as bras from './ext/bras.js';
