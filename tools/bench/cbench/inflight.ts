/**
 * The packet-ins of one switch that wait for an answer, with their send times.
 *
 * Sequence numbers are consecutive; the outstanding ones lie in [head, next), possibly with
 * holes (answered out of order). A ring of `cap` slots covers that range; when the range
 * would outgrow the ring, or an entry is older than the time-out, the oldest is given up
 * as lost. Only the first answer to a packet-in counts for it (a learning switch answers
 * one packet-in with a FLOW_MOD and a PACKET_OUT).
 */
export class InFlight {
  /** sequence number of the next packet-in */
  next = 0;
  /** no outstanding sequence number is below head */
  private head = 0;
  outstanding = 0;
  /** outstanding entries given up so far (ring overflow or time-out) */
  dropped = 0;
  private readonly mask: number;
  private readonly sentAt: Float64Array;
  private readonly open: Uint8Array;

  constructor(minCap: number) {
    let cap = 64;
    while (cap < minCap) cap *= 2;
    this.mask = cap - 1;
    this.sentAt = new Float64Array(cap);
    this.open = new Uint8Array(cap);
  }

  /** Record packet-in `next` as sent at `t`; returns its seq. */
  add(t: number): number {
    while (this.next - this.head > this.mask) this.dropHead();
    const seq = this.next++;
    this.sentAt[seq & this.mask] = t;
    this.open[seq & this.mask] = 1;
    this.outstanding++;
    return seq;
  }

  /** Answer seq; returns its send time, or -1 if it is not outstanding. */
  ack(seq: number): number {
    if (seq < this.head || seq >= this.next) return -1;
    const i = seq & this.mask;
    if (!this.open[i]) return -1;
    this.open[i] = 0;
    this.outstanding--;
    this.advance();
    return this.sentAt[i];
  }

  /** Answer the seq whose low `bits` bits are `low` (a 24-bit buffer id, a 32-bit tag). */
  ackLowBits(low: number, bits: number): number {
    const m = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
    const back = ((this.next - low) & m) >>> 0;
    return this.ack(this.next - (back === 0 ? m + 1 : back));
  }

  /** Answer the oldest outstanding seq with seq % period === residue. */
  ackResidue(residue: number, period: number): number {
    let s = this.head + ((residue - (this.head % period) + period) % period);
    for (; s < this.next; s += period) if (this.open[s & this.mask]) return this.ack(s);
    return -1;
  }

  /** Answer the oldest outstanding seq. */
  ackOldest(): number {
    return this.outstanding > 0 ? this.ack(this.head) : -1;
  }

  /** Give up entries sent before `before`. */
  expire(before: number): void {
    while (this.outstanding > 0 && this.sentAt[this.head & this.mask] < before) this.dropHead();
  }

  private dropHead(): void {
    const i = this.head & this.mask;
    if (this.open[i]) { this.open[i] = 0; this.outstanding--; this.dropped++; }
    this.head++;
    this.advance();
  }

  private advance(): void {
    while (this.head < this.next && !this.open[this.head & this.mask]) this.head++;
  }
}
