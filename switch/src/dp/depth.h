/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parse depth: how far into a packet the workers parse.
 *
 * While no installed entry matches a field past the Ethernet header and its 802.1Q tag (nor
 * an L3/L4 byte of words 1 and 2), and no installed action, group or meter reads or writes
 * past them, every lookup and every action gives the same result for a key that holds only
 * in_port, eth_dst, eth_src, eth_type, vlan_vid and vlan_pcp (pkt_parse_l2) as for the whole
 * key: masks are zero elsewhere, and nothing else is read. The workers then parse that much
 * and no more — a tenth fewer instructions per packet for a VLAN-rewriting switch but ~20 %
 * more packets per second at 1,000 flows (measured in dp/worker.c) — and the microflow
 * cache holds one entry per L2 flow, not
 * one per connection (what Open vSwitch's megaflows gain from masks, here from the whole
 * table set at once). metadata and tunnel_id are pipeline fields: matching or setting
 * them keeps the parse shallow.
 *
 * "Deep" users are counted in ofsw_Switch.deep_users: a flow entry whose match or
 * instructions need more (a meter instruction counts: a DSCP-remark band edits the IP
 * header), a group that is of type select (its hash reads L3/L4) or has such an action in a
 * bucket. The count goes up before the entry or group is published and down after it is
 * unpublished, so a worker that reads zero at the start of a burst sees no deep user in
 * its lookups — except one published during that burst, which "MAY be seen at once"
 * (ofsw.h) also allows it to miss; after ofsw_Switch_commit every worker parses deep.
 *
 * Thread-safety: deep_users is written by the control thread only; workers read it
 * (relaxed) once per burst.
 */
#ifndef OFSW_DP_DEPTH_H
#define OFSW_DP_DEPTH_H

#include <stdbool.h>

#include "../act/prog.h"
#include "../pkt/key.h"
#include "../sw.h"
#include "../util.h"

struct group;

/* Does a match mask look past the L2 fields? */
bool depth_match_deep(const struct key *mask);
/* Does an action list read or write past the L2 fields? */
bool depth_list_deep(const struct act_list *l);
/* Do an entry's instructions (meter included)? */
bool depth_prog_deep(const struct flow_prog *p);
/* Does a group (its type, its buckets)? */
bool depth_group_deep(const struct group *g);

/* A deep user is about to be published / was unpublished (control thread). */
static inline void depth_hold(struct ofsw_Switch *sw)
{
	ATOMIC_STORE_REL(&sw->deep_users, sw->deep_users + 1);
}

static inline void depth_release(struct ofsw_Switch *sw)
{
	ATOMIC_STORE_REL(&sw->deep_users, sw->deep_users - 1);
}

/* May a worker parse this burst shallow? */
static inline bool depth_shallow(const struct ofsw_Switch *sw)
{
	return ATOMIC_LOAD_RLX(&sw->deep_users) == 0;
}

#endif
