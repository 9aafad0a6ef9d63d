/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounds harness for switch/src/pkt/parse.c and pkt/bras.c (built with ASan/UBSan by
 * c-bras-bounds.test.ts). In the datapath a frame sits inside a 2 KB mbuf, so a read past
 * its end stays inside the buffer and no sanitizer sees it. Here every frame is parsed from
 * a heap buffer of exactly its length, and each BRAS edit runs on a stand-alone mbuf whose
 * buffer is exactly headroom + frame: one byte too far is an ASan report.
 *
 * Input (argv[1]): frames as u32 little-endian length + bytes. Output, per frame:
 *   K <pppoe_code> <pppoe_sid> <ppp_proto> <l2tp_tunnel> <l2tp_session>   (hex, host order)
 *   A<i> <rc> <frame hex>   for i = push_pppoe, pop_pppoe, push_l2tp, pop_l2tp (rc: enum
 *                           bras_verdict; the frame only when rc is 0)
 *   H <rc> <rc> <rc> <rc>   the same actions with no headroom at all
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "pkt/bras.h"
#include "pkt/parse.h"

static const struct bras_l2tp_push L2TP = {
	.tunnel_id = RTE_BE16(0x0044), .session_id = RTE_BE16(0x0055),
	.ipv4_src = RTE_BE32(0xc0000201), .ipv4_dst = RTE_BE32(0xc6336402),
	.udp_src = RTE_BE16(1701), .ttl = 64, .address_control = 1,
};

static int run(int action, const uint8_t *frame, uint32_t len, uint32_t headroom, int print)
{
	uint8_t *room = malloc(headroom + len + (headroom + len == 0));
	struct rte_mbuf m;
	struct pkt p;
	int rc;

	memcpy(room + headroom, frame, len);
	memset(&m, 0, sizeof(m));
	m.buf_addr = room;
	m.buf_len = (uint16_t)(headroom + len);
	m.data_off = (uint16_t)headroom;
	m.data_len = (uint16_t)len;
	m.pkt_len = len;
	m.nb_segs = 1;
	memset(&p, 0, sizeof(p));
	p.m = &m;
	pkt_parse(room + headroom, len, 0, &p.key, &p.lay);
	switch (action) {
	case 0: rc = bras_push_pppoe(&p, RTE_BE16(0x0033)); break;
	case 1: rc = bras_pop_pppoe(&p); break;
	case 2: rc = bras_push_l2tp(&p, &L2TP, bras_l2tp_ipv4_sum(&L2TP)); break;
	default: rc = bras_pop_l2tp(&p, RTE_BE16(0x0033)); break;
	}
	if (print) {
		printf("A%d %d ", action, rc);
		if (rc == 0)
			for (uint32_t i = 0; i < m.data_len; i++)
				printf("%02x", rte_pktmbuf_mtod(&m, uint8_t *)[i]);
		printf("\n");
	}
	free(room);
	return rc;
}

int main(int argc, char **argv)
{
	FILE *f;
	uint8_t hdr[4];

	if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "usage: %s FRAMES\n", argv[0]);
		return 2;
	}
	while (fread(hdr, 1, 4, f) == 4) {
		uint32_t len = hdr[0] | (hdr[1] << 8) | (hdr[2] << 16) | ((uint32_t)hdr[3] << 24);
		uint8_t *exact = malloc(len + (len == 0));
		struct pkt_layout l;
		struct key k;

		if (fread(exact, 1, len, f) != len)
			return 3;
		pkt_parse(exact, len, 0, &k, &l);
		printf("K %x %x %x %x %x\n", k.pppoe_code, rte_be_to_cpu_16(k.pppoe_sid),
		       rte_be_to_cpu_16(k.ppp_proto), rte_be_to_cpu_16(k.l2tp_tunnel_id),
		       rte_be_to_cpu_16(k.l2tp_session_id));
		for (int a = 0; a < 4; a++)
			run(a, exact, len, 64, 1);
		printf("H");
		for (int a = 0; a < 4; a++)
			printf(" %d", run(a, exact, len, 0, 0));
		printf("\n");
		free(exact);
	}
	fclose(f);
	return 0;
}
