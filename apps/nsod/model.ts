/**
 * NSOD's vocabulary: services, network-function instances, and the VLAN table that maps a
 * subscriber (client VLAN on a subscriber port of a switch) to the service that handles it,
 * the instance serving it now, and the VLAN it carries towards the NF.
 */

export type Policy = 'static' | 'hash' | 'select' | 'least-loaded';
export type Encap = 'rewrite' | 'qinq';
export type Admin = 'active' | 'drained';

export interface Service {
  /** stable small integer: the OpenFlow metadata that marks the service's return traffic */
  readonly id: number;
  readonly name: string;
  readonly policy: Policy;
  readonly encap: Encap;
  /** NF-side VLANs: one per subscriber (rewrite) or one per subscriber port (qinq) */
  readonly nf_vlans: { readonly first: number; readonly last: number };
}

export interface Instance {
  /** stable small integer: names the instance's fast-failover group */
  readonly id: number;
  readonly name: string;
  readonly service: string;
  readonly dpid: bigint;
  /** the NF port (OpenFlow port number) */
  readonly port: number;
  /** trunk VLAN on a port shared by several instances (an extra outer tag) */
  readonly vlan?: number;
  readonly weight: number;
  /** drained: gets no subscribers (its own move away), but keeps its pinned ones */
  readonly admin: Admin;
}

/** One row of the VLAN table. */
export interface Subscriber {
  readonly dpid: bigint;
  /** subscriber port */
  readonly port: number;
  /** client VLAN */
  readonly vlan: number;
  readonly service: string;
  /** the serving instance (null: not assigned, or the switch chooses — policy select) */
  readonly instance: string | null;
  /** NF VLAN: the rewritten VLAN (rewrite) or the S-tag of the subscriber port (qinq) */
  readonly nf_vlan: number;
  /** set by the operator (static map): never moved by the controller */
  readonly pinned: boolean;
}

export type NsodErrorKind = 'not_found' | 'conflict' | 'invalid';

/** A refused change; the REST layer maps kinds to 404 / 409 / 400. */
export class NsodError extends Error {
  override readonly name = 'NsodError';
  constructor(readonly kind: NsodErrorKind, message: string, readonly details: Record<string, unknown> = {}) { super(message); }
}

export const subscriberKey = (dpid: bigint, port: number, vlan: number): string => `${dpid}/${port}/${vlan}`;

/** OpenFlow group ids NSOD uses (one owner per group id range). */
export const GROUP_FF_BASE = 0x4e000000; // + instance id: fast-failover group of an instance
export const GROUP_SELECT_BASE = 0x4f000000; // + service id: select group of a service

export const ffGroupId = (i: Pick<Instance, 'id'>): number => GROUP_FF_BASE + i.id;
export const selectGroupId = (s: Pick<Service, 'id'>): number => GROUP_SELECT_BASE + s.id;
