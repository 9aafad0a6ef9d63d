/**
 * What a capture file holds, read from its record headers only (no frame is loaded, so a
 * multi-gigabyte capture costs a few reads): link type and frame count. Classic libpcap
 * format, either byte order, µs or ns timestamps (tools/pcap/writer.ts writes it, net_pcap
 * reads and writes it). pcapng is refused with the command that converts it.
 */
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { PcapWriter, LINKTYPE_ETHERNET } from '../pcap/writer.js';

export interface PcapSummary {
  readonly linktype: number;
  readonly frames: number;
  readonly bytes: number;
}

export class PcapFileError extends Error {
  override readonly name = 'PcapFileError';
}

const PCAPNG_MAGIC = 0x0a0d0d0a;

/** Link type and frame count of a classic pcap file; throws PcapFileError naming the file. */
export function pcapSummary(file: string): PcapSummary {
  let fd: number;
  try { fd = openSync(file, 'r'); } catch (e) {
    throw new PcapFileError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    const size = statSync(file).size;
    const h = Buffer.alloc(24);
    if (size < 24 || readSync(fd, h, 0, 24, 0) !== 24) throw new PcapFileError(`${file}: ${size} bytes is too short for a pcap file (24-byte header)`);
    const m = h.readUInt32LE(0);
    if (m === PCAPNG_MAGIC) throw new PcapFileError(`${file}: pcapng is not supported; convert it: editcap -F pcap ${file} OUT.pcap`);
    const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
    const be = h.readUInt32BE(0) === 0xa1b2c3d4 || h.readUInt32BE(0) === 0xa1b23c4d;
    if (!le && !be) throw new PcapFileError(`${file}: not a pcap file (magic 0x${m.toString(16).padStart(8, '0')})`);
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const linktype = u32(h, 20);
    let frames = 0;
    let bytes = 0;
    const r = Buffer.alloc(16);
    for (let p = 24; p < size;) {
      if (size - p < 16 || readSync(fd, r, 0, 16, p) !== 16) throw new PcapFileError(`${file}: truncated record header at byte ${p}`);
      const incl = u32(r, 8);
      if (p + 16 + incl > size) throw new PcapFileError(`${file}: record at byte ${p} claims ${incl} bytes, past the end of the file`);
      frames++;
      bytes += incl;
      p += 16 + incl;
    }
    return { linktype, frames, bytes };
  } finally {
    closeSync(fd);
  }
}

/** Write a valid capture with no frame (what a port that sent nothing should leave). */
export function writeEmptyPcap(file: string): void {
  writeFileSync(file, new PcapWriter({ linktype: LINKTYPE_ETHERNET }).toBuffer());
}
