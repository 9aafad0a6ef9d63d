/**
 * Sending many changes at once. A large batch goes in one ONF bundle (OpenFlow 1.3 bundle
 * extension, controller/of13/ext/onf-bundle.ts): the switch applies it as one atomic change,
 * which Open vSwitch does several times faster than the same flow-mods one by one. A switch
 * that refuses bundles is remembered and gets plain pipelined messages instead.
 */
import { OfpRemoteError, type Connection } from './connection.js';
import { bundleAdd, bundleControl, OFPBCT, OFPBF } from '../of13/ext/onf-bundle.js';
import type { Message } from '../of13/index.js';

/** Batches smaller than this are sent plainly (a bundle costs two round trips). */
export const BUNDLE_THRESHOLD = 64;

const bundleSupport = new WeakMap<Connection, boolean>();
let nextBundleId = 1;

async function sendPlain(conn: Connection, msgs: readonly Message[]): Promise<void> {
  for (let i = 0; i < msgs.length; i++) {
    conn.send({ ...msgs[i], xid: conn.nextXid() } as Message);
    if ((i & 255) === 255) await conn.whenWritable();
  }
}

/**
 * Send `msgs` in order; resolves when they are handed to the channel (bundle: committed).
 * Follow with a barrier to know the switch has applied them.
 */
export async function sendAll(conn: Connection, msgs: readonly Message[], opts: { threshold?: number } = {}): Promise<'bundle' | 'plain'> {
  if (msgs.length < (opts.threshold ?? BUNDLE_THRESHOLD) || bundleSupport.get(conn) === false) {
    await sendPlain(conn, msgs);
    return 'plain';
  }
  const id = nextBundleId = (nextBundleId + 1) >>> 0 || 1;
  const flags = OFPBF.ATOMIC | OFPBF.ORDERED;
  try {
    await conn.request(bundleControl(conn.nextXid(), id, OFPBCT.OPEN_REQUEST, flags));
  } catch (e) {
    if (!(e instanceof OfpRemoteError)) throw e;
    conn.log.info({ peer: conn.peer, err: e.message }, 'switch refuses bundles; sending flow-mods one by one');
    bundleSupport.set(conn, false);
    await sendPlain(conn, msgs);
    return 'plain';
  }
  bundleSupport.set(conn, true);
  for (let i = 0; i < msgs.length; i++) {
    const xid = conn.nextXid();
    // The embedded message carries the same xid as the bundle-add around it.
    conn.send(bundleAdd(xid, id, flags, { ...msgs[i], xid } as Message));
    if ((i & 255) === 255) await conn.whenWritable();
  }
  await conn.request(bundleControl(conn.nextXid(), id, OFPBCT.COMMIT_REQUEST, flags), 120_000);
  return 'bundle';
}
