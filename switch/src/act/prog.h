/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiled actions and instructions: what act/compile.c makes of the wire bytes once, at
 * install time, and act/exec.c runs per packet. Fixed-size 32-byte actions in a flat array;
 * no pointer chasing, no decoding in the fast path.
 */
#ifndef OFSW_ACT_PROG_H
#define OFSW_ACT_PROG_H

#include <stdint.h>

#include "../pkt/key.h"

enum act_op {
	OP_OUTPUT,            /* u32: port_no of a port */
	OP_OUTPUT_IN_PORT,
	OP_OUTPUT_ALL,
	OP_OUTPUT_FLOOD,
	OP_OUTPUT_CONTROLLER, /* u16: max_len */
	OP_OUTPUT_TABLE,      /* packet-out only: run the pipeline from table 0 */
	OP_SET_FIELD,         /* field, val */
	OP_PUSH_VLAN,         /* u16: TPID */
	OP_POP_VLAN,
	OP_PUSH_MPLS,         /* u16: ethertype */
	OP_POP_MPLS,          /* u16: ethertype */
	OP_SET_MPLS_TTL,      /* u16: ttl */
	OP_DEC_MPLS_TTL,
	OP_SET_NW_TTL,        /* u16: ttl */
	OP_DEC_NW_TTL,
	OP_COPY_TTL_OUT,
	OP_COPY_TTL_IN,
	OP_SET_QUEUE,         /* u32: queue_id */
	OP_GROUP,             /* u32: group_id */
	OP_PUSH_PPPOE,        /* u16: session_id, network order */
	OP_POP_PPPOE,
	OP_PUSH_L2TP,         /* val: struct bras_l2tp_push; u32: its IPv4 header sum */
	OP_POP_L2TP,          /* u16: session_id, network order */
	OP__COUNT
};

/*
 * What each action does to what the datapath knows of the packet (act_op_traits[op],
 * traits.c):
 * - exposes: afterwards the frame may show header bytes its key did not hold (pop VLAN the
 *   inner tag, pop MPLS what the label carried, the BRAS encapsulations their payload or
 *   new headers), so a later lookup depends on more than the key and is not cached (mfc.h,
 *   dp_list_exposes);
 * - deep: it reads or writes past the Ethernet header and its tag, so the workers parse
 *   frames whole while it is installed (dp/depth.h); a set-field is deep by its field
 *   (depth.c), whatever this says.
 */
struct act_op_traits {
	uint8_t exposes;
	uint8_t deep;
};
extern const struct act_op_traits act_op_traits[OP__COUNT];

/*
 * Action-set slots in execution order (OpenFlow 1.3.5 §5.10): copy TTL inwards, pops,
 * push-MPLS, push-PBB, push-VLAN, copy TTL outwards, decrement TTL, set (one slot per field),
 * qos, group, output. The BRAS encapsulations (docs/openflow-extensions.md, "In the action
 * set") pop outermost first — L2TP, then PPPoE — after the standard pops, and push
 * innermost first — PPPoE, then L2TP — before push-VLAN, so one action set can turn
 * L2TP into IP (pop_l2tp + pop_pppoe) or IP into L2TP (push_pppoe + push_l2tp), and a VLAN
 * pushed in the same set ends up outside.
 */
enum actset_slot {
	AS_COPY_TTL_IN,
	AS_POP_VLAN,
	AS_POP_MPLS,
	AS_POP_PBB,
	AS_POP_L2TP,
	AS_POP_PPPOE,
	AS_PUSH_MPLS,
	AS_PUSH_PBB,
	AS_PUSH_PPPOE,
	AS_PUSH_L2TP,
	AS_PUSH_VLAN,
	AS_COPY_TTL_OUT,
	AS_DEC_MPLS_TTL,
	AS_DEC_NW_TTL,
	AS_SET_MPLS_TTL,
	AS_SET_NW_TTL,
	AS_SET_FIELD0,
	AS_QUEUE = AS_SET_FIELD0 + KF__COUNT,
	AS_GROUP,
	AS_OUTPUT,
	AS__COUNT
};
_Static_assert(AS__COUNT <= 64, "action set slots fit a 64-bit bitmap");

struct act {
	uint8_t op;    /* enum act_op */
	uint8_t slot;  /* enum actset_slot */
	uint8_t field; /* enum key_field (OP_SET_FIELD) */
	uint8_t _pad;
	uint16_t u16;
	uint16_t _pad2;
	uint32_t u32;
	uint32_t _pad3;
	uint8_t val[16]; /* set-field value, network order, width of the field */
};
_Static_assert(sizeof(struct act) == 32, "act size");

struct act_list {
	uint32_t n;
	uint32_t _pad;
	struct act a[];
};

#define PROG_NO_GOTO 0xff

/*
 * An action path decoded for the datapath's fast replays (dp/pipeline.h dp_fast_exec):
 * header rewrites at fixed offsets — the outer VLAN tag's VID/PCP, the Ethernet addresses —
 * then one output to a port, nothing else. flags 0: the path has another shape. Built by
 * dp_fast_build for the microflow cache and for flow entries whose instructions are just
 * that (the NSOD VLAN rewrite).
 */
#define ACT_FAST 1u     /* valid */
#define ACT_FAST_TCI 2u /* outer TCI = TCI & tci_keep | tci_set (network order) */
#define ACT_FAST_DST 4u
#define ACT_FAST_SRC 8u
struct act_fast {
	uint8_t flags;
	uint8_t _pad;
	uint16_t tci_keep, tci_set;
	uint16_t _pad2;
	uint32_t out_port;             /* port number, or OFPP_IN_PORT */
	uint8_t eth_dst[6], eth_src[6];
};

/* The instructions of one flow entry. One allocation: the lists follow the struct. Replaced
 * as a whole (RCU) by ofsw_Flow_modify. */
struct flow_prog {
	struct act_fast fast;         /* apply-only terminal entries (set by flow.c) */
	const struct act_list *apply; /* NULL: none */
	const struct act_list *write; /* NULL: none */
	uint64_t md_value, md_mask;   /* write-metadata, network order; mask 0: none */
	uint32_t meter_id;            /* 0: none */
	uint8_t goto_table;           /* PROG_NO_GOTO: none */
	uint8_t clear;                /* clear-actions */
	uint8_t exposes;              /* apply may show headers outside the packet key (set by
	                               * flow.c with dp_list_exposes: microflow caching) */
	uint8_t _pad;
};

#define ACT_LIST_MAX 64

#endif
