/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire → compiled form, once per install: OXM match TLVs → key value/mask; ofp_instruction
 * list → struct flow_prog; ofp_action list → struct act_list. The agent has validated the
 * bytes with the codec; this still checks everything it relies on (lengths, field widths,
 * masks, ports, tables, groups, meters) and reports the OpenFlow error to send back.
 */
#ifndef OFSW_ACT_COMPILE_H
#define OFSW_ACT_COMPILE_H

#include <stdint.h>

#include "prog.h"
#include "../pkt/key.h"

struct ofsw_Switch;

/* Match: every OXM of class OPENFLOW_BASIC our key holds, and the BRAS experimenter OXMs.
 * value is zero outside mask. */
int compile_match(const uint8_t *oxm, uint32_t len, struct key *value, struct key *mask);

/* Instructions of a flow in table_id. *out is one malloc'd block (free()). */
int compile_instructions(struct ofsw_Switch *sw, uint8_t table_id, const uint8_t *p, uint32_t len,
			 struct flow_prog **out);

/* An action list (apply-actions, a bucket, a packet-out). packet_out allows output:TABLE.
 * *out is malloc'd (free()). */
int compile_actions(struct ofsw_Switch *sw, const uint8_t *p, uint32_t len, int packet_out,
		    struct act_list **out);

#endif
