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
	if (a->op == OP_SET_FIELD)
		return !field_shallow(a->field);
	return a->op >= OP__COUNT || act_op_traits[a->op].deep;
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
