/**
 * The controller runtime: channels become Datapaths, apps turn events into intents, intents
 * become desired state in the store and then OpenFlow messages, and every (re)connect ends
 * in a reconciliation. Apps never send (ARCHITECTURE decision 7).
 *
 * Ordering. Intents of one app are applied in the order the app emitted them. Desired state
 * is written to the store before anything is sent, so a controller killed at any moment
 * finds on restart what it meant to install, and the reconciliation on reconnect finishes
 * the job.
 *
 * Roles. With `role: 'auto'` several controller processes share one store file and hold a
 * master lease in it; the holder asks every switch for OFPCR_ROLE_MASTER with the lease
 * generation as generation_id (§6.3.6), the others for OFPCR_ROLE_SLAVE. When the master
 * dies its lease expires and a standby takes it over with generation+1: the switch then
 * demotes the old master. See docs/controller.md.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { BehaviorSubject, Subject, Observable, type Subscription } from 'rxjs';
import { OFPCR_ROLE, ENCODE_IN_PLACE_ROOM, decode, encode, encodeInto, type Message, type Msg } from '../of13/index.js';
import { flowDeleteStrict, groupMod, meterMod } from '../of13/builders.js';
import { Connection, type ConnectionOptions } from '../channel/connection.js';
import { handshake } from '../channel/handshake.js';
import { Batch } from '../channel/batch.js';
import type { Logger } from '../log.js';
import type { Store, ObjectKind } from '../store/store.js';
import { Datapath } from './datapath.js';
import type { FlowSpec, GroupSpec, Intent, MeterSpec } from './intents.js';
import { flowKeyInto, flowKeyOfWire, FLOW_KEY_ROOM } from '../store/flow-key.js';
import { ByteSet } from '../store/byte-set.js';
import { reconcile, flowAdd, type ReconcileReport } from './reconcile.js';

export type RoleMode = 'equal' | 'master' | 'auto';

export interface RuntimeOptions {
  readonly store: Store;
  readonly log: Logger;
  readonly role?: RoleMode;
  /** Lease time-to-live for role 'auto' (ms); renewed every ttl/3. */
  readonly leaseTtl?: number;
  readonly channel?: Omit<ConnectionOptions, 'log'>;
}

/** What an app sees. Streams merge all datapaths; each event names its datapath. */
export interface AppContext {
  readonly name: string;
  readonly log: Logger;
  readonly datapaths$: Observable<ReadonlyMap<bigint, Datapath>>;
  /** A datapath each time it becomes ready (after every reconnect's reconciliation). */
  readonly ready$: Observable<Datapath>;
  readonly packetIn$: Observable<{ readonly dp: Datapath; readonly msg: Msg<'PACKET_IN'> }>;
  readonly portStatus$: Observable<{ readonly dp: Datapath; readonly msg: Msg<'PORT_STATUS'> }>;
  readonly flowRemoved$: Observable<{ readonly dp: Datapath; readonly msg: Msg<'FLOW_REMOVED'> }>;
  /** Desired flows of this app on a datapath, as stored. */
  desiredFlows(dpid: bigint): FlowSpec[];
}

/**
 * An app (fastify-plugin style): a name, the tables it owns, and a function from its
 * context and options to a stream of intents.
 */
export interface App<O = unknown> {
  readonly name: string;
  /** Tables this app may write; a flow intent for another table is refused. */
  readonly tables: readonly number[];
  start(ctx: AppContext, opts: O): Observable<Intent>;
}

const COOKIE_SHIFT = 48n;
/** Flows persisted and sent per step of a large flow set (the first step, and at most). */
const FIRST_CHUNK = 64;
const CHUNK = 4096;

/** The flow a stored FLOW_MOD installs. */
function specOf(m: Msg<'FLOW_MOD'>): FlowSpec {
  return {
    table_id: m.table_id, priority: m.priority, match: m.match, instructions: m.instructions,
    idle_timeout: m.idle_timeout, hard_timeout: m.hard_timeout, flags: m.flags,
  };
}

/** The store key of a flow given by table, priority and match (the key of the ADD that installs it). */
function flowKeyOf(f: Pick<FlowSpec, 'table_id' | 'priority' | 'match'>): string {
  return flowKeyOfWire(encode(flowAdd({ table_id: f.table_id, priority: f.priority, match: f.match, instructions: [] }, 0n, 0)));
}

export class Runtime {
  readonly datapaths$ = new BehaviorSubject<ReadonlyMap<bigint, Datapath>>(new Map());
  /** Every reconciliation's report. */
  readonly reconciled$ = new Subject<{ readonly dp: Datapath; readonly report: ReconcileReport }>();
  readonly instanceId = randomUUID();
  private readonly ready$ = new Subject<Datapath>();
  private readonly apps = new Map<string, { app: App<any>; sub: Subscription; cookie: bigint }>();
  private readonly tableOwner = new Map<number, string>();
  private readonly log: Logger;
  private readonly store: Store;
  private readonly role: RoleMode;
  private leaseTimer: NodeJS.Timeout | null = null;
  private master = false;
  private generation = 0n;
  private stopped = false;

  constructor(private readonly opts: RuntimeOptions) {
    this.log = opts.log;
    this.store = opts.store;
    this.role = opts.role ?? 'equal';
    this.master = this.role !== 'auto';
    if (this.role === 'auto') {
      const ttl = opts.leaseTtl ?? 3000;
      this.tickLease(ttl);
      this.leaseTimer = setInterval(() => this.tickLease(ttl), Math.max(100, ttl / 3));
    }
  }

  /** Whether this instance may change switches (always, unless role 'auto' and not lease holder). */
  get isMaster(): boolean { return this.master; }

  get datapaths(): ReadonlyMap<bigint, Datapath> { return this.datapaths$.value; }

  // ------------------------------------------------------------------ apps

  register<O>(app: App<O>, opts: O): void {
    if (this.apps.has(app.name)) throw new Error(`app ${app.name} is already registered`);
    for (const t of app.tables) {
      const owner = this.tableOwner.get(t);
      if (owner) throw new Error(`table ${t} is owned by app ${owner}; ${app.name} cannot own it too`);
    }
    for (const t of app.tables) this.tableOwner.set(t, app.name);
    const cookie = BigInt(this.store.ownerId(app.name)) << COOKIE_SHIFT;
    const log = this.log.child({ app: app.name });
    const dps$ = this.datapaths$.asObservable();
    const ctx: AppContext = {
      name: app.name,
      log,
      datapaths$: dps$,
      ready$: this.ready$.asObservable(),
      packetIn$: this.perDatapath((dp) => dp.packetIn$),
      portStatus$: this.perDatapath((dp) => dp.portStatus$),
      flowRemoved$: this.perDatapath((dp) => dp.flowRemoved$),
      desiredFlows: (dpid) => this.store.flows(dpid, app.name).map((f) => specOf(decode(f.wire) as Msg<'FLOW_MOD'>)),
    };
    const run = this.executor(app.name, cookie, log);
    const sub = app.start(ctx, opts).subscribe({ next: run, error: (e) => log.error({ err: (e as Error).message }, 'app stream failed') });
    this.apps.set(app.name, { app, sub, cookie });
  }

  /**
   * Applies one app's intents in the order emitted. A packet-out with nothing queued before
   * it is sent at once, synchronously (the reactive fast path: no promise, no store);
   * everything else goes through the queue, one at a time.
   */
  private executor(owner: string, cookie: bigint, log: Logger): (i: Intent) => void {
    const queue: Intent[] = [];
    let running = false;
    const drain = async () => {
      running = true;
      while (queue.length) {
        const intent = queue.shift()!;
        try { await this.apply(owner, cookie, intent); } catch (e) {
          log.error({ err: (e as Error).message, intent: intent.kind }, 'intent failed');
        }
      }
      running = false;
    };
    return (intent) => {
      if (!running && intent.kind === 'packet-out') {
        try { this.sendPacketOut(intent); } catch (e) { log.warn({ err: (e as Error).message }, 'packet-out not sent'); }
        return;
      }
      queue.push(intent);
      if (!running) void drain();
    };
  }

  private sendPacketOut(intent: Extract<Intent, { kind: 'packet-out' }>): void {
    const dp = this.datapaths.get(intent.dpid);
    if (!dp?.conn || !this.master) return;
    const m = intent.msg;
    // One object literal of a fixed shape (a spread would build it key by key, per packet).
    dp.conn.send({ type: 'PACKET_OUT', xid: dp.conn.nextXid(), buffer_id: m.buffer_id, in_port: m.in_port, actions: m.actions, data: m.data });
  }

  /** Streams of every datapath, present and future, merged; a datapath is subscribed once. */
  private perDatapath<T>(pick: (dp: Datapath) => Observable<T>): Observable<{ readonly dp: Datapath; readonly msg: T }> {
    return new Observable((sub) => {
      const seen = new Set<Datapath>();
      const inner: Subscription[] = [];
      const outer = this.datapaths$.subscribe((m) => {
        for (const dp of m.values()) {
          if (seen.has(dp)) continue;
          seen.add(dp);
          inner.push(pick(dp).subscribe((msg) => sub.next({ dp, msg })));
        }
      });
      return () => { outer.unsubscribe(); for (const s of inner) s.unsubscribe(); };
    });
  }

  // ------------------------------------------------------------------ intents

  /** Persist, then (when the datapath is up and we are master) send and confirm. */
  async apply(owner: string, cookie: bigint, intent: Intent): Promise<void> {
    const dp = this.datapaths.get(intent.dpid);
    const live = dp?.conn && this.master && (dp.state$.value === 'ready') ? dp.conn : null;
    switch (intent.kind) {
      case 'packet-out': this.sendPacketOut(intent); return;
      case 'flows': {
        // Checked once per run of equal tables: a large set is mostly one table, and the
        // switch waits for the first flows meanwhile.
        let checked = -1;
        for (const f of intent.flows) if (f.table_id !== checked) { this.checkTable(owner, f.table_id); checked = f.table_id; }
        await this.replaceFlows(live, intent.dpid, owner, cookie, intent.flows);
        return;
      }
      case 'flow-add': {
        this.checkTable(owner, intent.flow.table_id);
        const wire = encode(flowAdd(intent.flow, cookie, 0));
        if (!this.store.putFlow(intent.dpid, owner, flowKeyOfWire(wire), wire) || !live) return;
        live.sendBytes(wire, live.nextXid());
        await live.barrier();
        return;
      }
      case 'flow-remove': {
        this.checkTable(owner, intent.flow.table_id);
        if (!this.store.deleteFlow(intent.dpid, flowKeyOf(intent.flow)) || !live) return;
        live.send(flowDeleteStrict({ xid: live.nextXid(), ...intent.flow }));
        await live.barrier();
        return;
      }
      case 'group-put':
        return this.putObject(live, 'group', intent.dpid, owner, intent.group.group_id, intent.group, (command) => groupMod({ xid: 0, command, ...intent.group }));
      case 'group-remove':
        return this.putObject(live, 'group', intent.dpid, owner, intent.group_id, null, (command) => groupMod({ xid: 0, command, group_type: 0, group_id: intent.group_id }));
      case 'meter-put':
        return this.putObject(live, 'meter', intent.dpid, owner, intent.meter.meter_id, intent.meter, (command) => meterMod({ xid: 0, command, ...intent.meter }));
      case 'meter-remove':
        return this.putObject(live, 'meter', intent.dpid, owner, intent.meter_id, null, (command) => meterMod({ xid: 0, command, meter_id: intent.meter_id }));
    }
  }

  /**
   * Make `flows` the owner's whole desired set on a datapath, streaming: chunk by chunk the
   * flows are encoded, compared with what was desired, the changed ones persisted and then
   * sent (one bundle for a large set), so that encoding and storing here overlap with the
   * switch taking the previous chunk. Every flow is stored before it is sent. Flows no longer
   * desired are deleted last; a barrier confirms the whole set.
   */
  private async replaceFlows(live: Connection | null, dpid: bigint, owner: string, cookie: bigint, flows: readonly FlowSpec[]): Promise<void> {
    const before = this.store.flowWires(dpid, owner);
    // Keys seen so far, as bytes (no string kept per flow); the stored ones among them by text.
    const seen = new ByteSet(flows.length);
    const stillDesired = new Set<string>();
    const keyBytes = Buffer.allocUnsafe(FLOW_KEY_ROOM);
    let batch: Batch | null = null;
    const open = async () => (batch ??= await Batch.open(live!, flows.length + before.size));
    // The wire forms of a chunk are encoded into one buffer, reused by the next chunk: the
    // store and the channel copy what they keep before the chunk ends.
    let buf = Buffer.allocUnsafe(CHUNK * 256);
    // The first chunks are small, so that the switch has work within a millisecond or two;
    // they double up to CHUNK (fewer, larger transactions and writes).
    for (let i = 0, size = FIRST_CHUNK; i < flows.length; i += size, size = Math.min(size * 2, CHUNK)) {
      const end = Math.min(i + size, flows.length);
      let off = 0;
      const keys: string[] = [];
      const wires: Uint8Array[] = [];
      for (let j = i; j < end; j++) {
        if (buf.length - off < ENCODE_IN_PLACE_ROOM) { buf = Buffer.allocUnsafe(CHUNK * 256); off = 0; }
        // Encoded first: the key is read from the bytes (cheaper than from the spec).
        const n = encodeInto(flowAdd(flows[j], cookie, 0), buf, off);
        const kn = flowKeyInto(buf, off, keyBytes, 0);
        if (!seen.add(keyBytes, 0, kn)) continue; // the first of duplicates is the desired one; its space is reused
        const key = keyBytes.toString('hex', 0, kn);
        const wire = buf.subarray(off, off + n);
        if (before.size) {
          const old = before.get(key);
          if (old) {
            stillDesired.add(key);
            if (Buffer.compare(old, wire) === 0) continue; // unchanged: not sent, its space reused
          }
        }
        off += n;
        keys.push(key);
        wires.push(wire);
      }
      if (!keys.length) continue;
      this.store.writeFlows(dpid, owner, keys, wires);
      if (live) {
        await (await open()).add(wires);
        // Let the event loop run once: what the socket could not take at once is written
        // now, so the switch works on this chunk while the next one is prepared.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const removed = [...before].filter(([key]) => !stillDesired.has(key));
    if (removed.length) {
      this.store.writeFlows(dpid, owner, [], [], removed.map(([key]) => key));
      if (live) await (await open()).add(removed.map(([, wire]) => flowDeleteStrict(specOf(decode(wire) as Msg<'FLOW_MOD'>))));
    }
    if (batch && live) {
      // The barrier goes out right behind the commit instead of after its reply: the switch
      // processes messages before a barrier first (§6.2, §7.3.8), so its reply still comes
      // after the commit's, one round trip sooner.
      const b = batch as Batch;
      await Promise.all([b.commit(), live.barrier(60_000)]);
    }
  }

  /**
   * Groups and meters: store, then ADD when new, MODIFY when changed, DELETE when removed
   * (OFPGC and OFPMC share the numbers ADD 0, MODIFY 1, DELETE 2).
   */
  private async putObject(live: Connection | null, kind: ObjectKind, dpid: bigint, owner: string, id: number, spec: GroupSpec | MeterSpec | null, mod: (command: number) => Message): Promise<void> {
    const existed = this.store.hasObject(kind, dpid, id);
    const changed = spec === null ? this.store.deleteObject(kind, dpid, id) : this.store.putObject(kind, dpid, owner, id, spec);
    if (!changed || !live) return;
    live.send({ ...mod(spec === null ? 2 : existed ? 1 : 0), xid: live.nextXid() } as Message);
    await live.barrier();
  }

  private checkTable(owner: string, table: number): void {
    const t = this.tableOwner.get(table);
    if (t !== owner) throw new Error(`app ${owner} may not write table ${table} (${t ? `owned by ${t}` : 'not declared by any app'})`);
  }

  // ------------------------------------------------------------------ datapaths

  /** Take a new TCP/TLS channel (from the listener or an active connection). */
  async accept(socket: Socket): Promise<Datapath | undefined> {
    const conn = new Connection(socket, { log: this.log, ...this.opts.channel });
    let info;
    try {
      info = await handshake(conn);
    } catch (e) {
      this.log.warn({ peer: conn.peer, err: (e as Error).message }, 'handshake failed');
      conn.close(`handshake failed: ${(e as Error).message}`);
      return undefined;
    }
    if (this.stopped) { conn.close('controller stopping'); return undefined; }
    let dp = this.datapaths.get(info.datapathId);
    const isNew = !dp;
    dp ??= new Datapath(info.datapathId);
    dp.attach(conn, info);
    dp.state$.next('connecting');
    if (isNew) this.datapaths$.next(new Map([...this.datapaths, [dp.dpid, dp]]));
    this.log.info({ dpid: dp.id, peer: conn.peer, ports: info.ports.length }, 'switch connected');
    dp.errors$.subscribe((e) => this.log.warn({ dpid: dp!.id, error: 'code' in e ? `${e.err_type}/${e.code}` : 'experimenter' }, 'switch reported an error'));
    await this.bringUp(dp);
    return dp;
  }

  /** Role, then reconciliation, then ready. */
  private async bringUp(dp: Datapath): Promise<void> {
    const conn = dp.conn;
    if (!conn) return;
    try {
      if (this.role !== 'equal') await this.requestRole(dp, this.master ? OFPCR_ROLE.MASTER : OFPCR_ROLE.SLAVE);
      if (!this.master) { dp.state$.next('standby'); return; }
      await this.reconcile(dp);
    } catch (e) {
      this.log.error({ dpid: dp.id, err: (e as Error).message }, 'bring-up failed');
      if (dp.conn === conn) conn.close(`bring-up failed: ${(e as Error).message}`);
    }
  }

  private async requestRole(dp: Datapath, role: number): Promise<void> {
    const conn = dp.conn!;
    const reply = await conn.request<Msg<'ROLE_REPLY'>>({ type: 'ROLE_REQUEST', xid: conn.nextXid(), role, generation_id: this.generation });
    this.log.info({ dpid: dp.id, role: reply.role, generation: String(reply.generation_id) }, 'role set');
  }

  /** Reconcile one datapath with the desired state now (also on demand, e.g. from REST). */
  async reconcile(dp: Datapath): Promise<ReconcileReport> {
    const conn = dp.conn;
    if (!conn) throw new Error(`datapath ${dp.id} is not connected`);
    dp.state$.next('reconciling');
    const flows = this.store.flows(dp.dpid).map((f) => ({ wire: f.wire, msg: decode(f.wire) as Msg<'FLOW_MOD'> }));
    const report = await reconcile(conn, {
      flows,
      groups: this.store.objects<GroupSpec>('group', dp.dpid).map((g) => g.spec),
      meters: this.store.objects<MeterSpec>('meter', dp.dpid).map((m) => m.spec),
    });
    this.log.info({ dpid: dp.id, ...report }, 'reconciled');
    if (dp.conn === conn) {
      dp.state$.next('ready');
      this.reconciled$.next({ dp, report });
      this.ready$.next(dp);
    }
    return report;
  }

  // ------------------------------------------------------------------ roles

  private tickLease(ttl: number): void {
    if (this.stopped) return;
    let lease;
    try { lease = this.store.acquireLease('master', this.instanceId, ttl); } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'lease renewal failed');
      return;
    }
    const was = this.master;
    this.master = lease.held;
    this.generation = lease.generation;
    if (lease.held && !was) {
      this.log.info({ generation: String(lease.generation) }, 'this instance is now master');
      for (const dp of this.datapaths.values()) void this.bringUp(dp);
    } else if (!lease.held && was) {
      this.log.warn({ holder: lease.holder }, 'lost the master lease; now standby');
      for (const dp of this.datapaths.values()) {
        dp.state$.next('standby');
        if (dp.conn) void this.requestRole(dp, OFPCR_ROLE.SLAVE).catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.role === 'auto' && this.master) this.store.releaseLease('master', this.instanceId);
    for (const a of this.apps.values()) a.sub.unsubscribe();
    for (const dp of this.datapaths.values()) dp.conn?.close('controller stopping');
  }
}

