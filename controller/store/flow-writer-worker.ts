/**
 * The flow writer thread (see flow-writer.ts): its own connection to the store file, one
 * transaction per request, answered in order with the request id (and an error text when
 * the write failed).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { flowRowWriter } from './flow-rows.js';

export interface FlowWriteRequest {
  readonly id: number;
  readonly dpid: string;
  readonly owner: string;
  readonly keys: string[];
  /** the wires back to back; wire i ends at ends[i] */
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
}
export interface FlowWriteReply { readonly id: number; readonly error?: string }

const db = new Database((workerData as { file: string }).file);
// The store set WAL mode on the file; a writer waits for the other connection's transactions.
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const write = flowRowWriter(db);

parentPort!.on('message', (r: FlowWriteRequest) => {
  let reply: FlowWriteReply = { id: r.id };
  try {
    const wires = new Array<Uint8Array>(r.keys.length);
    for (let i = 0, start = 0; i < wires.length; start = r.ends[i], i++) wires[i] = r.bytes.subarray(start, r.ends[i]);
    write(r.dpid, { keys: r.keys, owners: r.owner, wires }, []);
  } catch (e) {
    reply = { id: r.id, error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
