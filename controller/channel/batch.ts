/**
 * Sending many changes at once. A large batch goes in one ONF bundle (OpenFlow 1.3 bundle
 * extension, controller/of13/ext/onf-bundle.ts): the switch applies it as one atomic change,
 * which Open vSwitch does several times faster than the same flow-mods one by one. A switch
 * that refuses bundles is remembered and gets plain pipelined messages instead.
 *
 * Items are messages or already-encoded messages (stored desired flows), so that a large
 * flow set is encoded once, persisted, and sent without re-encoding.
 */
import { OfpRemoteError, type Connection } from './connection.js';
import { bundleAdd, bundleControl, writeBundleAdd, BUNDLE_ADD_OVERHEAD, OFPBCT, OFPBF } from '../of13/ext/onf-bundle.js';
import type { Message } from '../of13/index.js';

/** Batches smaller than this are sent plainly (a bundle costs two round trips). */
export const BUNDLE_THRESHOLD = 64;

export type Outgoing = Message | Uint8Array;

const bundleSupport = new WeakMap<Connection, boolean>();
let lastBundleId = 0;

/**
 * A batch being sent: `open` (a bundle when the batch is large and the switch takes
 * bundles), `add` as many times as needed (items go out as they come, so producing the next
 * items overlaps with the switch taking the previous ones), `commit`. Follow with a barrier
 * to know the switch has applied them.
 */
export class Batch {
  private bundleId = 0;
  private sent = 0;

  private constructor(private readonly conn: Connection) {}

  static async open(conn: Connection, expected: number): Promise<Batch> {
    const b = new Batch(conn);
    if (expected >= BUNDLE_THRESHOLD && bundleSupport.get(conn) !== false) {
      const id = lastBundleId = (lastBundleId + 1) >>> 0 || 1;
      try {
        await conn.request(bundleControl(conn.nextXid(), id, OFPBCT.OPEN_REQUEST, FLAGS));
        bundleSupport.set(conn, true);
        b.bundleId = id;
      } catch (e) {
        if (!(e instanceof OfpRemoteError)) throw e;
        conn.log.info({ peer: conn.peer, err: e.message }, 'switch refuses bundles; sending flow-mods one by one');
        bundleSupport.set(conn, false);
      }
    }
    return b;
  }

  get bundled(): boolean { return this.bundleId !== 0; }

  async add(items: readonly Outgoing[]): Promise<void> {
    const { conn } = this;
    for (const item of items) {
      const xid = conn.nextXid();
      if (this.bundleId && item instanceof Uint8Array) {
        const id = this.bundleId;
        conn.sendWith(BUNDLE_ADD_OVERHEAD + item.length, (b, at) => { writeBundleAdd(b, at, xid, id, FLAGS, item); });
      } else if (this.bundleId) conn.send(bundleAdd(xid, this.bundleId, FLAGS, { ...item, xid } as Message));
      else if (item instanceof Uint8Array) conn.sendBytes(item, xid);
      else conn.send({ ...item, xid } as Message);
      if ((++this.sent & 255) === 0) await conn.whenWritable();
    }
  }

  async commit(): Promise<void> {
    if (this.bundleId) await this.conn.request(bundleControl(this.conn.nextXid(), this.bundleId, OFPBCT.COMMIT_REQUEST, FLAGS), 120_000);
  }
}

const FLAGS = OFPBF.ATOMIC | OFPBF.ORDERED;

/** Send `items` in order as one batch. */
export async function sendAll(conn: Connection, items: readonly Outgoing[]): Promise<'bundle' | 'plain'> {
  const b = await Batch.open(conn, items.length);
  await b.add(items);
  await b.commit();
  return b.bundled ? 'bundle' : 'plain';
}
