/**
 * Persisting a large flow set on a second thread, so that the runtime encodes the next chunk
 * while this one is being written (ARCHITECTURE decision 7 still holds: the runtime sends a
 * chunk only once its write has resolved). The writer thread (flow-writer-worker.ts) holds
 * its own connection to the store file; SQLite's WAL lets the two connections share it, a
 * writer waiting (busy_timeout) for the other's transaction.
 *
 * Requests are answered in order. The thread starts on the first write and does not keep
 * the process alive while idle.
 */
import { Worker } from 'node:worker_threads';
import type { FlowWriteReply, FlowWriteRequest } from './flow-writer-worker.js';

export class FlowWriter {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(private readonly file: string) {}

  /** Upsert rows (key i → wires[i], all of `owner`) in one transaction; resolves once committed. */
  write(dpid: bigint, owner: string, keys: readonly string[], wires: readonly Uint8Array[]): Promise<void> {
    const w = this.worker ??= this.start();
    let total = 0;
    for (const x of wires) total += x.length;
    const bytes = new Uint8Array(total);
    const ends = new Uint32Array(wires.length);
    for (let i = 0, o = 0; i < wires.length; i++) { bytes.set(wires[i], o); o += wires[i].length; ends[i] = o; }
    const id = this.nextId++;
    const req: FlowWriteRequest = { id, dpid: dpid.toString(), owner, keys: keys as string[], bytes, ends };
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.ref();
      w.postMessage(req, [bytes.buffer, ends.buffer]);
    });
  }

  /** Stop the thread; writes not yet answered are rejected. */
  close(): void {
    const w = this.worker;
    this.worker = null;
    if (w) void w.terminate();
    this.failAll(new Error('the store was closed before the flows were written'));
  }

  private start(): Worker {
    const w = new Worker(new URL('./flow-writer-worker.js', import.meta.url), { workerData: { file: this.file } });
    w.on('message', (r: FlowWriteReply) => {
      const p = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (!this.waiting.size) w.unref();
      if (r.error !== undefined) p?.reject(new Error(`writing desired flows failed: ${r.error}`)); else p?.resolve();
    });
    w.on('error', (e) => { if (this.worker === w) this.worker = null; this.failAll(e); });
    w.on('exit', (code) => { if (this.worker === w) this.worker = null; this.failAll(new Error(`the flow writer thread exited (code ${code})`)); });
    return w;
  }

  private failAll(e: Error): void {
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }
}
