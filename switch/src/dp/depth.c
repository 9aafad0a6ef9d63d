/* SPDX-License-Identifier: Apache-2.0 */
/* Parse depth (see depth.h): which matches, actions and groups need the whole key. */
#include "depth.h"
#include "../act/group.h"

/* The key bytes pkt_parse_l2 fills (in_port, vlan_vid, eth_type; eth_dst, vlan_pcp; eth_src)
 * and the pipeline fields (metadata, tunnel_id), per word of struct key. */
static uint64_t l2_word_mask(int i)
{
	switch (i) {
	case 0: return ~0ull;
	case 1: return 0x00ffffffffffffffull; /* not ip_proto */
	case 2: return 0x0000ffffffffffffull; /* not ip_dscp, ip_ecn */
	case 5: return ~0ull;                 /* metadata */
	case 8: return ~0ull;                 /* tunnel_id */
	default: return 0;
	}
}

bool depth_match_deep(const struct key *mask)
{
	for (int i = 0; i < KEY_WORDS; i++)
		if (mask->w[i] & ~l2_word_mask(i))
			return true;
	return false;
}

static bool field_shallow(uint8_t field)
{
	switch (field) {
	case KF_ETH_DST:
	case KF_ETH_SRC:
	case KF_VLAN_VID:
	case KF_VLAN_PCP:
	case KF_TUNNEL_ID:
		return true;
	default:
		return false;
	}
}

static bool act_deep(const struct act *a)
{
	switch ((enum act_op)a->op) {
	case OP_OUTPUT:
	case OP_OUTPUT_IN_PORT:
	case OP_OUTPUT_ALL:
	case OP_OUTPUT_FLOOD:
	case OP_OUTPUT_CONTROLLER: /* a packet-in carries the frame and metadata (dp/pktin.c) */
	case OP_PUSH_VLAN:
	case OP_POP_VLAN:          /* re-parses the frame whole (pkt_reparse) */
	case OP_SET_QUEUE:
	case OP_GROUP:             /* the group counts itself */
		return false;
	case OP_SET_FIELD:
		return !field_shallow(a->field);
	case OP_OUTPUT_TABLE: /* packet-out only, whose packets are parsed whole */
	case OP_PUSH_MPLS:
	case OP_POP_MPLS:
	case OP_SET_MPLS_TTL:
	case OP_DEC_MPLS_TTL:
	case OP_SET_NW_TTL:
	case OP_DEC_NW_TTL:
	case OP_COPY_TTL_OUT:
	case OP_COPY_TTL_IN:
	case OP_PUSH_PPPOE:
	case OP_POP_PPPOE:
	case OP_PUSH_L2TP:
	case OP_POP_L2TP:
		return true;
	}
	return true;
}

bool depth_list_deep(const struct act_list *l)
{
	if (l == NULL)
		return false;
	for (uint32_t i = 0; i < l->n; i++)
		if (act_deep(&l->a[i]))
			return true;
	return false;
}

bool depth_prog_deep(const struct flow_prog *p)
{
	return p->meter_id != 0 || depth_list_deep(p->apply) || depth_list_deep(p->write);
}

bool depth_group_deep(const struct group *g)
{
	if (g->type == OFPGT_SELECT)
		return true;
	for (uint32_t i = 0; i < g->n_buckets; i++)
		if (depth_list_deep(g->b[i].actions))
			return true;
	return false;
}
