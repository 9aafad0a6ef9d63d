/**
 * The pipeline oracle: an in-memory OpenFlow 1.3.5 switch that tells what a frame becomes.
 * The C datapath is checked against it byte for byte (issue 4 §3).
 *
 * - packet.ts: `parsePacket`, `dissect`, `matches` (which fields a frame has)
 * - rewrite.ts: the header rewrites of the actions
 * - pipeline.ts: `process`, `packetOut`, the action set, groups, `selectHash`
 * - checksum.ts: incremental Internet checksums, CRC32c
 * - bras.ts: PPPoE / L2TPv2 recognition and the BRAS push/pop actions
 * - build.ts: frames from a description
 * - random.ts: seeded random tables, packets and scenarios
 */
export * from './packet.js';
export * from './rewrite.js';
export * from './pipeline.js';
export * from './checksum.js';
export * from './bras.js';
export * from './build.js';
export * from './random.js';
