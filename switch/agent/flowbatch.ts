/**
 * Flows packed for one datapath call: the records of ofsw_Flow_addBatch
 * (switch/include/ofsw.h struct ofsw_FlowRec): a 16-byte header — table_id u8, pad u8,
 * priority u16, match_len u16, instructions_len u16 (host order), cookie as 8 network-order
 * bytes — then the OXM TLVs, then the ofp_instruction list, zero-padded to 8 bytes. Match,
 * instructions and cookie are copied from the received FLOW_MOD as they are.
 *
 * A backend without a batch call installs the records one by one (`flow(i)` gives each as
 * a BackendFlow).
 */
import { endianness } from 'node:os';
import type { BackendFlow, FlowHandle } from './backend.js';

const REC_HDR = 16;
const recSize = (matchLen: number, instrLen: number) => (REC_HDR + matchLen + instrLen + 7) & ~7;

if (endianness() !== 'LE') throw new Error('flowbatch: the record header is written in little-endian host order');

export class FlowBatch {
  /** the records, bytes [0, len) */
  buf = new Uint8Array(1 << 16);
  len = 0;
  /** number of records */
  n = 0;
  /** handles[i]: the datapath handle of record i, once installed */
  handles = new BigInt64Array(1024);
  private offsets = new Uint32Array(1024);

  /** Append a flow: table, priority, and the cookie, match and instructions as bytes of `msg`. */
  add(table_id: number, priority: number, msg: Uint8Array, cookieAt: number, matchFrom: number, matchTo: number, instrFrom: number, instrTo: number): void {
    const ml = matchTo - matchFrom, il = instrTo - instrFrom;
    const sz = recSize(ml, il);
    if (this.len + sz > this.buf.length) {
      const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + sz));
      b.set(this.buf.subarray(0, this.len));
      this.buf = b;
    }
    if (this.n === this.offsets.length) {
      const o = new Uint32Array(this.n * 2);
      o.set(this.offsets);
      this.offsets = o;
      const h = new BigInt64Array(this.n * 2);
      h.set(this.handles);
      this.handles = h;
    }
    const b = this.buf, p = this.len;
    b[p] = table_id; b[p + 1] = 0;
    b[p + 2] = priority & 255; b[p + 3] = priority >>> 8;
    b[p + 4] = ml & 255; b[p + 5] = ml >>> 8;
    b[p + 6] = il & 255; b[p + 7] = il >>> 8;
    // byte loops: a subarray per part costs more than copying a few dozen bytes
    for (let k = 0; k < 8; k++) b[p + 8 + k] = msg[cookieAt + k];
    let q = p + REC_HDR;
    for (let k = matchFrom; k < matchTo; k++) b[q++] = msg[k];
    for (let k = instrFrom; k < instrTo; k++) b[q++] = msg[k];
    while (q < p + sz) b[q++] = 0;
    this.offsets[this.n++] = p;
    this.len = p + sz;
  }

  /** Byte offset of record i (i = n: the end). */
  offset(i: number): number { return i < this.n ? this.offsets[i] : this.len; }

  /** Record i as the single-flow call takes it (views into the batch). */
  flow(i: number): BackendFlow {
    const b = this.buf, p = this.offsets[i];
    const ml = b[p + 4] | (b[p + 5] << 8), il = b[p + 6] | (b[p + 7] << 8);
    let cookie = 0n;
    for (let k = 0; k < 8; k++) cookie = (cookie << 8n) | BigInt(b[p + 8 + k]);
    return {
      table_id: b[p], priority: b[p + 2] | (b[p + 3] << 8), cookie,
      match: b.subarray(p + REC_HDR, p + REC_HDR + ml), instructions: b.subarray(p + REC_HDR + ml, p + REC_HDR + ml + il),
    };
  }

  /** The handle of record i (handles stay below 2^53: ofsw.h). */
  handle(i: number): FlowHandle { return Number(this.handles[i]); }

  clear(): void {
    this.n = 0;
    this.len = 0;
  }
}
