/* SPDX-License-Identifier: Apache-2.0 */
/* The traits of each action (prog.h, struct act_op_traits): one row per op. */
#include "prog.h"

const struct act_op_traits act_op_traits[OP__COUNT] = {
	/*                          exposes deep */
	[OP_OUTPUT] =            { 0, 0 },
	[OP_OUTPUT_IN_PORT] =    { 0, 0 },
	[OP_OUTPUT_ALL] =        { 0, 0 },
	[OP_OUTPUT_FLOOD] =      { 0, 0 },
	[OP_OUTPUT_CONTROLLER] = { 0, 0 }, /* a packet-in carries the frame and metadata */
	[OP_OUTPUT_TABLE] =      { 1, 1 }, /* packet-out only: a whole pipeline run */
	[OP_SET_FIELD] =         { 0, 0 }, /* deep by its field (dp/depth.c) */
	[OP_PUSH_VLAN] =         { 0, 0 },
	[OP_POP_VLAN] =          { 1, 0 }, /* the frame is parsed again, whole (pkt_reparse) */
	[OP_PUSH_MPLS] =         { 0, 1 },
	[OP_POP_MPLS] =          { 1, 1 },
	[OP_SET_MPLS_TTL] =      { 0, 1 },
	[OP_DEC_MPLS_TTL] =      { 0, 1 },
	[OP_SET_NW_TTL] =        { 0, 1 },
	[OP_DEC_NW_TTL] =        { 0, 1 },
	[OP_COPY_TTL_OUT] =      { 0, 1 },
	[OP_COPY_TTL_IN] =       { 0, 1 },
	[OP_SET_QUEUE] =         { 0, 0 },
	[OP_GROUP] =             { 0, 0 }, /* buckets work on copies; the group counts itself (depth.c) */
	[OP_PUSH_PPPOE] =        { 1, 1 },
	[OP_POP_PPPOE] =         { 1, 1 },
	[OP_PUSH_L2TP] =         { 1, 1 },
	[OP_POP_L2TP] =          { 1, 1 },
};
