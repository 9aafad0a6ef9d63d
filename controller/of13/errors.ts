/**
 * The one error type of the codec.
 *
 * Every malformed input the codec meets raises an `OfpError`, and it carries the OpenFlow
 * error type and code (OpenFlow 1.3.5 §7.4.4) that the channel sends back to the peer, so
 * callers never map exceptions to protocol errors by hand. `path` names the field where
 * decoding stopped ("FLOW_MOD.instructions[1].actions[0].port") and `offset` the byte.
 */
import { OFPET, ERROR_CODES } from './spec/enums.js';

export class OfpError extends Error {
  override readonly name = 'OfpError';
  constructor(
    /** ofp_error_type, e.g. OFPET.BAD_REQUEST */
    readonly errType: number,
    /** the code within that type, e.g. OFPBRC.BAD_LEN */
    readonly errCode: number,
    /** what is wrong, without type/code/offset */
    readonly detail: string,
    /** byte offset in the decoded message where the problem was found, if known */
    readonly offset = -1,
    /** the field that was being decoded or encoded */
    readonly path = '',
  ) {
    super(`${errorName(errType, errCode)}: ${path ? path + ': ' : ''}${detail}${offset >= 0 ? ` (at byte ${offset})` : ''}`);
  }

  /** The same error with its offset made relative to another origin. */
  rebase(origin: number): OfpError {
    return this.offset < 0 ? this : new OfpError(this.errType, this.errCode, this.detail, this.offset - origin, this.path);
  }
}

/** "OFPET_BAD_REQUEST/OFPBRC_BAD_LEN" for logs and messages. */
export function errorName(type: number, code: number): string {
  const t = (OFPET as Record<string, number>);
  const tname = Object.keys(t).find((k) => t[k] === type);
  if (!tname) return `type ${type}/code ${code}`;
  const codes = ERROR_CODES[type];
  const cname = codes ? Object.keys(codes.names).find((k) => codes.names[k] === code) : undefined;
  return `OFPET_${tname}/${cname ? codes!.prefix + '_' + cname : 'code ' + code}`;
}
