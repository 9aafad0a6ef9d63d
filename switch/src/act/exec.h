/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Action execution on one packet. Outputs are deferred by one step: an output only records
 * its port ("pending"); when the packet is about to change, or another output comes, the
 * pending port gets a copy; at the end it gets the packet itself. So the common single
 * output at the end of a list costs no copy, and every output sees the packet as it was at
 * that point of the list, as OpenFlow requires.
 */
#ifndef OFSW_ACT_EXEC_H
#define OFSW_ACT_EXEC_H

#include <stdint.h>

#include "prog.h"
#include "../dp/ctx.h"
#include "../flow.h"
#include "../pkt/pkt.h"

struct exec {
	struct dp_ctx *w;
	const struct snapshot *snap;
	struct pkt *p;
	struct port *pending;      /* output waiting for the packet */
	const struct flow *flow;   /* entry whose actions run (packet-in cookie/reason); NULL: packet-out */
	uint8_t table_id;
	uint8_t depth;             /* group nesting */
	uint8_t outputs;           /* anything left the pipeline (for the drop counter) */
	uint8_t rekeyed;           /* a decapsulation (pop_mpls, pop_pppoe, pop_l2tp) re-parsed the
	                            * key from bytes the packet's original key did not hold */
};

static inline void exec_init(struct exec *e, struct dp_ctx *w, const struct snapshot *s, struct pkt *p)
{
	e->w = w;
	e->snap = s;
	e->p = p;
	e->pending = NULL;
	e->flow = NULL;
	e->table_id = 0;
	e->depth = 0;
	e->outputs = 0;
	e->rekeyed = 0;
}

/* Run one action; returns -1 when the packet must be dropped now (TTL expired …). */
int exec_action(struct exec *e, const struct act *a);
/* Run a list in order; -1 as above. */
int exec_list(struct exec *e, const struct act_list *l);
/* Hand the packet to the pending output, or free it. */
void exec_finish(struct exec *e);
/* Give the pending output its copy now (the packet is about to change). */
void exec_settle(struct exec *e);

#endif
