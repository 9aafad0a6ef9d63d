/**
 * The meter table (OpenFlow 1.3.5 §5.7, §7.3.4.4): METER_MOD add / modify / delete with the
 * OFPET_METER_MOD_FAILED codes. Rates are enforced by the datapath; this table only holds
 * configuration and the counters the datapath reports. Flow entries using a deleted meter
 * are removed by FlowTables.meterMod (reason OFPRR_DELETE: OpenFlow 1.3 has no
 * OFPRR_METER_DELETE).
 *
 * Checks, in order: command (BAD_COMMAND); meter id (INVALID_METER for 0, for the virtual
 * meters SLOWPATH/CONTROLLER which this switch does not implement, and above OFPM_MAX except
 * OFPM_ALL for delete); existence (METER_EXISTS on add, UNKNOWN_METER on modify; deleting an
 * absent meter is not an error); flags (BAD_FLAGS for unknown bits, and unless exactly one
 * of KBPS and PKTPS is set); bands (OUT_OF_BANDS above the limit, BAD_BAND for experimenter
 * bands, BAD_RATE for a zero rate; a burst size without OFPMF_BURST is ignored, §7.3.4.4);
 * OUT_OF_METERS.
 */
import { OfpError, OFPET, OFPMMFC, OFPMC, OFPMF, OFPM, type Msg, type MeterBand } from '../../controller/of13/index.js';

export interface BandCounter { packet_band_count: bigint; byte_band_count: bigint }

export interface MeterEntry {
  readonly meter_id: number;
  flags: number;
  bands: readonly MeterBand[];
  packet_in_count: bigint;
  byte_in_count: bigint;
  band_stats: BandCounter[];
  readonly installedNs: bigint;
}

export type MeterChange =
  | { readonly kind: 'meter'; readonly op: 'add' | 'del'; readonly meter: MeterEntry }
  | { readonly kind: 'meter'; readonly op: 'mod'; readonly meter: MeterEntry; readonly previous: { flags: number; bands: readonly MeterBand[] } };

export type MeterModRequest = Pick<Msg<'METER_MOD'>, 'command' | 'flags' | 'meter_id' | 'bands'>;

export interface MeterTableOptions {
  readonly maxMeters?: number;
  readonly maxBands?: number;
}

const fail = (code: number, msg: string): never => { throw new OfpError(OFPET.METER_MOD_FAILED, code, msg, -1, 'METER_MOD'); };
const KNOWN_FLAGS = OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS;

export class MeterTable {
  private readonly meters = new Map<number, MeterEntry>();
  constructor(readonly opts: MeterTableOptions = {}) {}

  get size(): number { return this.meters.size; }
  get(meter_id: number): MeterEntry | undefined { return this.meters.get(meter_id); }
  has(meter_id: number): boolean { return this.meters.has(meter_id); }
  all(): MeterEntry[] { return [...this.meters.values()].sort((a, b) => a.meter_id - b.meter_id); }

  meterMod(mm: MeterModRequest, nowNs = 0n): MeterChange[] {
    const id = mm.meter_id;
    if (mm.command === OFPMC.DELETE) {
      if (id === OFPM.ALL) {
        const all = this.all();
        this.meters.clear();
        return all.map((meter) => ({ kind: 'meter', op: 'del', meter }));
      }
      if (id === 0 || id > OFPM.MAX) fail(OFPMMFC.INVALID_METER, `meter id 0x${id.toString(16)}`);
      const m = this.meters.get(id);
      if (!m) return [];
      this.meters.delete(id);
      return [{ kind: 'meter', op: 'del', meter: m }];
    }
    if (mm.command !== OFPMC.ADD && mm.command !== OFPMC.MODIFY) fail(OFPMMFC.BAD_COMMAND, `command ${mm.command}`);
    if (id === 0 || id > OFPM.MAX) fail(OFPMMFC.INVALID_METER, `meter id 0x${id.toString(16)}`);
    const old = this.meters.get(id);
    if (mm.command === OFPMC.ADD && old) fail(OFPMMFC.METER_EXISTS, `meter ${id} exists`);
    if (mm.command === OFPMC.MODIFY && !old) fail(OFPMMFC.UNKNOWN_METER, `meter ${id} does not exist`);
    if ((mm.flags & ~KNOWN_FLAGS) !== 0) fail(OFPMMFC.BAD_FLAGS, `unknown flags 0x${mm.flags.toString(16)}`);
    // §7.3.4.4: the band rates are in kb/s (KBPS) or packets/s (PKTPS), one unit per meter; a
    // meter that names neither has no unit, and the datapath refuses it too (act/meter.c).
    if (((mm.flags & OFPMF.KBPS) !== 0) === ((mm.flags & OFPMF.PKTPS) !== 0)) fail(OFPMMFC.BAD_FLAGS, `flags 0x${mm.flags.toString(16)}: exactly one of KBPS and PKTPS`);
    if (this.opts.maxBands !== undefined && mm.bands.length > this.opts.maxBands) fail(OFPMMFC.OUT_OF_BANDS, `${mm.bands.length} bands, at most ${this.opts.maxBands}`);
    mm.bands.forEach((b, i) => {
      if (b.type === 'EXPERIMENTER') fail(OFPMMFC.BAD_BAND, `band ${i}: experimenter bands are not supported`);
      if (b.rate === 0) fail(OFPMMFC.BAD_RATE, `band ${i}: rate 0`);
    });
    if (!old && this.opts.maxMeters !== undefined && this.meters.size >= this.opts.maxMeters) fail(OFPMMFC.OUT_OF_METERS, `at most ${this.opts.maxMeters} meters`);
    const band_stats = mm.bands.map(() => ({ packet_band_count: 0n, byte_band_count: 0n }));
    if (old) {
      const previous = { flags: old.flags, bands: old.bands };
      old.flags = mm.flags;
      old.bands = mm.bands;
      old.band_stats = band_stats;
      return [{ kind: 'meter', op: 'mod', meter: old, previous }];
    }
    const m: MeterEntry = { meter_id: id, flags: mm.flags, bands: mm.bands, packet_in_count: 0n, byte_in_count: 0n, band_stats, installedNs: nowNs };
    this.meters.set(id, m);
    return [{ kind: 'meter', op: 'add', meter: m }];
  }
}
