/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire → compiled form (see compile.h). Layouts: OXM TLV §7.2.3.2 (header class:16
 * field:7 hasmask:1 length:8), ofp_instruction §7.2.4, ofp_action §7.2.5.
 */
#include <stdlib.h>

#include "compile.h"
#include "group.h"
#include "meter.h"
#include "../pkt/bras.h"
#include "../sw.h"

/* ------------------------------------------------------------------ match */

int compile_match(const uint8_t *p, uint32_t len, struct key *value, struct key *mask)
{
	uint64_t seen = 0;
	uint32_t o = 0;

	memset(value, 0, sizeof(*value));
	memset(mask, 0, sizeof(*mask));
	while (o < len) {
		uint32_t hdr, cls, field, hasmask, plen, vlen;
		const struct key_field_def *d;
		const uint8_t *val;
		uint8_t *kv = (uint8_t *)value, *km = (uint8_t *)mask;

		if (len - o < 4)
			return ofsw_fail(-EINVAL, OFPET_BAD_MATCH, OFPBMC_BAD_LEN, (int32_t)o,
					 "match: %u bytes left, an OXM header needs 4", len - o);
		hdr = rd32(p + o);
		cls = hdr >> 16;
		field = (hdr >> 9) & 0x7f;
		hasmask = (hdr >> 8) & 1;
		plen = hdr & 0xff;
		if (len - o - 4 < plen)
			return ofsw_fail(-EINVAL, OFPET_BAD_MATCH, OFPBMC_BAD_LEN, (int32_t)o,
					 "match: OXM at %u claims %u bytes, %u left", o, plen, len - o - 4);
		if (cls == OFPXMC_OPENFLOW_BASIC && field < KEY_FIRST_EXPERIMENTER_FIELD && field != KF_PBB_ISID) {
			val = p + o + 4;
			vlen = plen;
		} else if (cls == OFPXMC_EXPERIMENTER && plen >= 4 && rd32(p + o + 4) == KEY_EXPERIMENTER_ID &&
			   field < KF__COUNT - KEY_FIRST_EXPERIMENTER_FIELD) {
			/* §7.2.3.2: the experimenter id leads the payload; the BRAS fields follow it. */
			field += KEY_FIRST_EXPERIMENTER_FIELD;
			val = p + o + 8;
			vlen = plen - 4;
		} else {
			return ofsw_fail(-ENOTSUP, OFPET_BAD_MATCH, OFPBMC_BAD_FIELD, (int32_t)o,
					 "match: OXM class 0x%04x field %u%s is not supported", cls, field,
					 cls == OFPXMC_EXPERIMENTER ? " (experimenter)" : "");
		}
		d = &key_fields[field];
		if (vlen != (hasmask ? 2u : 1u) * d->width)
			return ofsw_fail(-EINVAL, OFPET_BAD_MATCH, OFPBMC_BAD_LEN, (int32_t)o,
					 "match: %s needs %u bytes, has %u", d->name,
					 (hasmask ? 2u : 1u) * d->width, vlen);
		if (hasmask && !d->maskable)
			return ofsw_fail(-EINVAL, OFPET_BAD_MATCH, OFPBMC_BAD_MASK, (int32_t)o,
					 "match: %s is not maskable", d->name);
		if (seen & (1ull << field))
			return ofsw_fail(-EINVAL, OFPET_BAD_MATCH, OFPBMC_DUP_FIELD, (int32_t)o,
					 "match: %s appears twice", d->name);
		seen |= 1ull << field;
		for (uint32_t i = 0; i < d->width; i++) {
			uint8_t v = val[i];
			uint8_t m = hasmask ? val[d->width + i] : 0xff;

			if (v & ~d->full_mask[i])
				return ofsw_fail(-EINVAL, OFPET_BAD_MATCH, OFPBMC_BAD_VALUE, (int32_t)o,
						 "match: %s value has bits beyond its %u", d->name, d->bits);
			if (v & ~m)
				return ofsw_fail(-EINVAL, OFPET_BAD_MATCH, OFPBMC_BAD_WILDCARDS, (int32_t)o,
						 "match: %s value has bits outside its mask", d->name);
			m &= d->full_mask[i];
			/* Shared slots (in_port/in_phy_port …): the two must agree where both care. */
			if ((km[d->offset + i] & m) && ((kv[d->offset + i] ^ v) & km[d->offset + i] & m))
				return ofsw_fail(-EINVAL, OFPET_BAD_MATCH, OFPBMC_BAD_VALUE, (int32_t)o,
						 "match: %s contradicts another field in the same slot", d->name);
			km[d->offset + i] |= m;
			kv[d->offset + i] |= v & m;
		}
		o += 4 + plen;
	}
	return 0;
}

/* ------------------------------------------------------------------ actions */

#define BAD_ACTION(code, off, ...) ofsw_fail(-EINVAL, OFPET_BAD_ACTION, (code), (int32_t)(off), __VA_ARGS__)

static int check_port(uint32_t port, int packet_out, uint32_t off)
{
	if (port == 0 || port == OFPP_ANY || port == OFPP_NORMAL || (port == OFPP_TABLE && !packet_out) ||
	    (port > OFPP_MAX && port < OFPP_IN_PORT))
		return BAD_ACTION(OFPBAC_BAD_OUT_PORT, off, "output: port 0x%x is not supported here", port);
	return 0;
}

/*
 * The BRAS experimenter actions (docs/openflow-extensions.md, "Actions"): type 0xFFFF, len,
 * experimenter id, subtype u16, body, zero padding to len. Padding is not checked (the codec
 * ignores it too); address_control must be 0 or 1.
 */
enum { BRAS_PUSH_PPPOE = 1, BRAS_POP_PPPOE = 2, BRAS_PUSH_L2TP = 3, BRAS_POP_L2TP = 4 };

static int compile_bras(const uint8_t *p, uint32_t len, uint32_t off, struct act *a)
{
	static const uint8_t want_len[] = {
		[BRAS_PUSH_PPPOE] = 16, [BRAS_POP_PPPOE] = 16, [BRAS_PUSH_L2TP] = 32, [BRAS_POP_L2TP] = 16,
	};
	uint32_t exp = len >= 8 ? rd32(p + 4) : 0;
	uint16_t sub;

	if (len < 16 || exp != KEY_EXPERIMENTER_ID)
		return BAD_ACTION(OFPBAC_BAD_EXPERIMENTER, off, "experimenter action 0x%08x is not supported", exp);
	sub = rd16(p + 8);
	if (sub < BRAS_PUSH_PPPOE || sub > BRAS_POP_L2TP)
		return BAD_ACTION(OFPBAC_BAD_EXP_TYPE, off, "experimenter 0x%08x: action subtype %u is unknown", exp, sub);
	if (len != want_len[sub])
		return BAD_ACTION(OFPBAC_BAD_LEN, off, "experimenter 0x%08x subtype %u: length %u, want %u", exp, sub,
				  len, want_len[sub]);
	switch (sub) {
	case BRAS_PUSH_PPPOE:
		a->op = OP_PUSH_PPPOE;
		a->slot = AS_PUSH_PPPOE;
		memcpy(&a->u16, p + 10, 2);
		return 0;
	case BRAS_POP_PPPOE:
		a->op = OP_POP_PPPOE;
		a->slot = AS_POP_PPPOE;
		return 0;
	case BRAS_PUSH_L2TP: {
		struct bras_l2tp_push b;

		memcpy(&b, p + 10, sizeof(b));
		if (b.address_control > 1)
			return BAD_ACTION(OFPBAC_BAD_ARGUMENT, off, "push_l2tp: address_control %u (0 or 1)",
					  b.address_control);
		a->op = OP_PUSH_L2TP;
		a->slot = AS_PUSH_L2TP;
		memcpy(a->val, &b, sizeof(b));
		a->u32 = bras_l2tp_ipv4_sum(&b);
		return 0;
	}
	default:
		a->op = OP_POP_L2TP;
		a->slot = AS_POP_L2TP;
		memcpy(&a->u16, p + 10, 2);
		return 0;
	}
}

/* One action at p (len bytes, len validated by the caller) → *a. */
static int compile_one(struct ofsw_Switch *sw, const uint8_t *p, uint32_t len, uint32_t off,
		       int packet_out, struct act *a)
{
	uint16_t type = rd16(p);
	int rc;

	memset(a, 0, sizeof(*a));
	switch (type) {
	case OFPAT_OUTPUT: {
		uint32_t port;

		if (len != 16)
			return BAD_ACTION(OFPBAC_BAD_LEN, off, "OUTPUT: length %u, want 16", len);
		port = rd32(p + 4);
		rc = check_port(port, packet_out, off);
		if (rc < 0)
			return rc;
		a->slot = AS_OUTPUT;
		a->u32 = port;
		a->u16 = rd16(p + 8);
		switch (port) {
		case OFPP_IN_PORT: a->op = OP_OUTPUT_IN_PORT; break;
		case OFPP_ALL: a->op = OP_OUTPUT_ALL; break;
		case OFPP_FLOOD: a->op = OP_OUTPUT_FLOOD; break;
		case OFPP_CONTROLLER: a->op = OP_OUTPUT_CONTROLLER; break;
		case OFPP_TABLE: a->op = OP_OUTPUT_TABLE; break;
		default: a->op = OP_OUTPUT; break; /* includes OFPP_LOCAL: a port may be numbered so */
		}
		return 0;
	}
	case OFPAT_COPY_TTL_OUT:
	case OFPAT_COPY_TTL_IN:
	case OFPAT_DEC_MPLS_TTL:
	case OFPAT_POP_VLAN:
	case OFPAT_DEC_NW_TTL:
		if (len != 8)
			return BAD_ACTION(OFPBAC_BAD_LEN, off, "action %u: length %u, want 8", type, len);
		switch (type) {
		case OFPAT_COPY_TTL_OUT: a->op = OP_COPY_TTL_OUT; a->slot = AS_COPY_TTL_OUT; break;
		case OFPAT_COPY_TTL_IN: a->op = OP_COPY_TTL_IN; a->slot = AS_COPY_TTL_IN; break;
		case OFPAT_DEC_MPLS_TTL: a->op = OP_DEC_MPLS_TTL; a->slot = AS_DEC_MPLS_TTL; break;
		case OFPAT_POP_VLAN: a->op = OP_POP_VLAN; a->slot = AS_POP_VLAN; break;
		default: a->op = OP_DEC_NW_TTL; a->slot = AS_DEC_NW_TTL; break;
		}
		return 0;
	case OFPAT_SET_MPLS_TTL:
	case OFPAT_SET_NW_TTL:
		if (len != 8)
			return BAD_ACTION(OFPBAC_BAD_LEN, off, "action %u: length %u, want 8", type, len);
		a->op = type == OFPAT_SET_MPLS_TTL ? OP_SET_MPLS_TTL : OP_SET_NW_TTL;
		a->slot = type == OFPAT_SET_MPLS_TTL ? AS_SET_MPLS_TTL : AS_SET_NW_TTL;
		a->u16 = p[4];
		return 0;
	case OFPAT_PUSH_VLAN:
	case OFPAT_PUSH_MPLS:
	case OFPAT_POP_MPLS: {
		uint16_t et;

		if (len != 8)
			return BAD_ACTION(OFPBAC_BAD_LEN, off, "action %u: length %u, want 8", type, len);
		et = rd16(p + 4);
		if (type == OFPAT_PUSH_VLAN && et != 0x8100 && et != 0x88a8)
			return BAD_ACTION(OFPBAC_BAD_ARGUMENT, off, "PUSH_VLAN: ethertype 0x%04x", et);
		if (type == OFPAT_PUSH_MPLS && et != 0x8847 && et != 0x8848)
			return BAD_ACTION(OFPBAC_BAD_ARGUMENT, off, "PUSH_MPLS: ethertype 0x%04x", et);
		a->u16 = et;
		a->op = type == OFPAT_PUSH_VLAN ? OP_PUSH_VLAN : type == OFPAT_PUSH_MPLS ? OP_PUSH_MPLS : OP_POP_MPLS;
		a->slot = type == OFPAT_PUSH_VLAN ? AS_PUSH_VLAN : type == OFPAT_PUSH_MPLS ? AS_PUSH_MPLS : AS_POP_MPLS;
		return 0;
	}
	case OFPAT_SET_QUEUE:
	case OFPAT_GROUP:
		if (len != 8)
			return BAD_ACTION(OFPBAC_BAD_LEN, off, "action %u: length %u, want 8", type, len);
		a->u32 = rd32(p + 4);
		if (type == OFPAT_SET_QUEUE) {
			a->op = OP_SET_QUEUE;
			a->slot = AS_QUEUE;
			return 0;
		}
		if (group_find(&sw->groups, a->u32) == NULL)
			return BAD_ACTION(OFPBAC_BAD_OUT_GROUP, off, "GROUP: group %u does not exist", a->u32);
		a->op = OP_GROUP;
		a->slot = AS_GROUP;
		return 0;
	case OFPAT_SET_FIELD: {
		uint32_t hdr, cls, field, plen, at = 8;
		const struct key_field_def *d;

		if (len < 8 || len - 4 < 4)
			return BAD_ACTION(OFPBAC_BAD_LEN, off, "SET_FIELD: length %u", len);
		hdr = rd32(p + 4);
		cls = hdr >> 16;
		field = (hdr >> 9) & 0x7f;
		plen = hdr & 0xff;
		if (cls == OFPXMC_EXPERIMENTER && plen >= 4 && len >= 12 && rd32(p + 8) == KEY_EXPERIMENTER_ID &&
		    field < KF__COUNT - KEY_FIRST_EXPERIMENTER_FIELD) {
			field += KEY_FIRST_EXPERIMENTER_FIELD; /* a BRAS field: experimenter id, then value */
			plen -= 4;
			at = 12;
		} else if (cls != OFPXMC_OPENFLOW_BASIC || field >= KEY_FIRST_EXPERIMENTER_FIELD) {
			return BAD_ACTION(OFPBAC_BAD_SET_TYPE, off, "SET_FIELD: OXM class 0x%04x field %u cannot be set",
					  cls, field);
		}
		if (!key_fields[field].settable)
			return BAD_ACTION(OFPBAC_BAD_SET_TYPE, off, "SET_FIELD: %s cannot be set", key_fields[field].name);
		d = &key_fields[field];
		if ((hdr >> 8) & 1)
			return BAD_ACTION(OFPBAC_BAD_SET_ARGUMENT, off, "SET_FIELD: %s with a mask", d->name);
		if (plen != d->width || at + plen > len)
			return BAD_ACTION(OFPBAC_BAD_SET_LEN, off, "SET_FIELD: %s needs %u bytes, has %u", d->name,
					  d->width, plen);
		a->op = OP_SET_FIELD;
		a->field = (uint8_t)field;
		a->slot = (uint8_t)(AS_SET_FIELD0 + field);
		memcpy(a->val, p + at, d->width);
		/* vlan_vid carries OFPVID_PRESENT or not (both seen in the wild): the VID is what counts. */
		for (uint32_t i = 0; i < d->width; i++)
			if (field != KF_VLAN_VID && (a->val[i] & ~d->full_mask[i]))
				return BAD_ACTION(OFPBAC_BAD_SET_ARGUMENT, off, "SET_FIELD: %s value has bits beyond its %u",
						  d->name, d->bits);
		return 0;
	}
	case OFPAT_PUSH_PBB:
	case OFPAT_POP_PBB:
		return BAD_ACTION(OFPBAC_BAD_TYPE, off, "PBB actions are not supported");
	case OFPAT_EXPERIMENTER:
		return compile_bras(p, len, off, a);
	default:
		return BAD_ACTION(OFPBAC_BAD_TYPE, off, "action type %u is unknown", type);
	}
}

/* Count and validate action TLV framing. */
static int count_actions(const uint8_t *p, uint32_t len, uint32_t base, uint32_t *n)
{
	uint32_t o = 0, k = 0;

	while (o < len) {
		uint32_t alen;

		if (len - o < 8)
			return BAD_ACTION(OFPBAC_BAD_LEN, base + o, "action list: %u bytes left, an action needs 8", len - o);
		alen = rd16(p + o + 2);
		if (alen < 8 || alen % 8 || alen > len - o)
			return BAD_ACTION(OFPBAC_BAD_LEN, base + o, "action at %u: length %u", base + o, alen);
		o += alen;
		k++;
	}
	if (k > ACT_LIST_MAX)
		return BAD_ACTION(OFPBAC_TOO_MANY, base, "%u actions, at most %u", k, ACT_LIST_MAX);
	*n = k;
	return 0;
}

static int fill_actions(struct ofsw_Switch *sw, const uint8_t *p, uint32_t len, uint32_t base,
			int packet_out, struct act_list *l)
{
	uint32_t o = 0, k = 0;

	while (o < len) {
		uint32_t alen = rd16(p + o + 2);
		int rc = compile_one(sw, p + o, alen, base + o, packet_out, &l->a[k++]);

		if (rc < 0)
			return rc;
		o += alen;
	}
	l->n = k;
	return 0;
}

int compile_actions(struct ofsw_Switch *sw, const uint8_t *p, uint32_t len, int packet_out,
		    struct act_list **out)
{
	struct act_list *l;
	uint32_t n;
	int rc = count_actions(p, len, 0, &n);

	if (rc < 0)
		return rc;
	l = calloc(1, sizeof(*l) + n * sizeof(struct act));
	if (l == NULL)
		return ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
	rc = fill_actions(sw, p, len, 0, packet_out, l);
	if (rc < 0) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* ------------------------------------------------------------------ instructions */

#define BAD_INST(code, off, ...) ofsw_fail(-EINVAL, OFPET_BAD_INSTRUCTION, (code), (int32_t)(off), __VA_ARGS__)

int compile_instructions(struct ofsw_Switch *sw, uint8_t table_id, const uint8_t *p, uint32_t len,
			 struct flow_prog **out)
{
	uint32_t o = 0, n_apply = 0, n_write = 0, apply_at = 0, write_at = 0, apply_len = 0, write_len = 0;
	uint32_t seen = 0;
	struct flow_prog *fp;
	struct act_list *al;
	uint8_t goto_table = PROG_NO_GOTO, clear = 0;
	uint64_t mdv = 0, mdm = 0;
	uint32_t meter = 0;
	size_t sz;
	int rc;

	/* Pass 1: framing, scalar instructions, sizes of the action lists. */
	while (o < len) {
		uint32_t ilen, type;

		if (len - o < 8)
			return BAD_INST(OFPBIC_BAD_LEN, o, "instructions: %u bytes left, an instruction needs 8", len - o);
		type = rd16(p + o);
		ilen = rd16(p + o + 2);
		if (ilen < 8 || ilen % 8 || ilen > len - o)
			return BAD_INST(OFPBIC_BAD_LEN, o, "instruction at %u: length %u", o, ilen);
		if (type >= 1 && type <= 6) {
			if (seen & (1u << type))
				return BAD_INST(OFPBIC_UNSUP_INST, o, "instruction %u appears twice", type);
			seen |= 1u << type;
		}
		switch (type) {
		case OFPIT_GOTO_TABLE:
			if (ilen != 8)
				return BAD_INST(OFPBIC_BAD_LEN, o, "GOTO_TABLE: length %u", ilen);
			goto_table = p[o + 4];
			if (goto_table <= table_id || goto_table >= sw->n_tables)
				return BAD_INST(OFPBIC_BAD_TABLE_ID, o, "GOTO_TABLE %u from table %u (tables 0-%u)",
						goto_table, table_id, sw->n_tables - 1);
			break;
		case OFPIT_WRITE_METADATA:
			if (ilen != 24)
				return BAD_INST(OFPBIC_BAD_LEN, o, "WRITE_METADATA: length %u", ilen);
			memcpy(&mdv, p + o + 8, 8);
			memcpy(&mdm, p + o + 16, 8);
			mdv &= mdm;
			break;
		case OFPIT_WRITE_ACTIONS:
		case OFPIT_APPLY_ACTIONS: {
			uint32_t k;

			rc = count_actions(p + o + 8, ilen - 8, o + 8, &k);
			if (rc < 0)
				return rc;
			if (type == OFPIT_APPLY_ACTIONS) {
				n_apply = k; apply_at = o + 8; apply_len = ilen - 8;
			} else {
				n_write = k; write_at = o + 8; write_len = ilen - 8;
			}
			break;
		}
		case OFPIT_CLEAR_ACTIONS:
			clear = 1;
			break;
		case OFPIT_METER:
			if (ilen != 8)
				return BAD_INST(OFPBIC_BAD_LEN, o, "METER: length %u", ilen);
			meter = rd32(p + o + 4);
			if (meter == 0 || meter > OFPM_MAX || meter_find(&sw->meters, meter) == NULL)
				return ofsw_fail(-EINVAL, OFPET_METER_MOD_FAILED, OFPMMFC_UNKNOWN_METER, (int32_t)o,
						 "METER: meter %u does not exist", meter);
			break;
		case OFPIT_EXPERIMENTER:
			return BAD_INST(OFPBIC_UNSUP_INST, o, "experimenter instructions are not supported");
		default:
			return BAD_INST(OFPBIC_UNKNOWN_INST, o, "instruction type %u is unknown", type);
		}
		o += ilen;
	}

	/* Pass 2: one block — the program, then apply, then write. */
	sz = sizeof(*fp) + 2 * sizeof(struct act_list) + (n_apply + n_write) * sizeof(struct act);
	fp = calloc(1, sz);
	if (fp == NULL)
		return ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
	fp->goto_table = goto_table;
	fp->clear = clear;
	fp->md_value = mdv;
	fp->md_mask = mdm;
	fp->meter_id = meter;
	al = (struct act_list *)(fp + 1);
	if (seen & (1u << OFPIT_APPLY_ACTIONS)) {
		rc = fill_actions(sw, p + apply_at, apply_len, apply_at, 0, al);
		if (rc < 0)
			goto fail;
		fp->apply = al;
		al = (struct act_list *)((uint8_t *)al + sizeof(*al) + n_apply * sizeof(struct act));
	}
	if (seen & (1u << OFPIT_WRITE_ACTIONS)) {
		rc = fill_actions(sw, p + write_at, write_len, write_at, 0, al);
		if (rc < 0)
			goto fail;
		fp->write = al;
	}
	*out = fp;
	return 0;
fail:
	free(fp);
	return rc;
}
