/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parser's fast path against its general path (built by c-parse.test.ts with
 * ASan/UBSan): switch/src/pkt/parse.c compiled twice, as the datapath has it (pkt_parse) and
 * with the fast path left out (pkt_parse_generic), fed the same frames — the shapes the fast
 * path takes and their near misses (a second tag, 802.1ad, IP options, fragments, ICMP,
 * SCTP, UDP to the L2TP port, short frames), then random byte flips in the headers and
 * random cuts — each in a heap buffer of exactly its length. Both must fill the key and the
 * layout byte for byte alike; pkt_parse_hash too, with the hash key_hash gives for that key,
 * and "head words only" (the microflow cache then compares just those) only for keys whose
 * other words are zero.
 *
 * argv[1]: frames to try; argv[2]: seed. Output: "frames N fast_shape F head_only H
 * differ D", then up to 10 differing frames in hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/parse.h"

void pkt_parse_generic(const uint8_t *p, uint32_t len, uint32_t in_port_be, struct key *k, struct pkt_layout *l);

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* A frame: Ethernet, optional tags, IPv4 (ihl words of header), an L4 header, padding. */
static uint32_t build(uint8_t *f, uint32_t cap)
{
	static const uint16_t tag_types[] = { 0x8100, 0x8100, 0x8100, 0x88a8, 0x9100 };
	static const uint8_t protos[] = { 17, 17, 6, 6, 1, 132, 58, 47 };
	uint32_t o = 12, n_tags = rnd(4) == 0 ? 0 : rnd(5) == 0 ? 2 : 1, ihl = rnd(6) == 0 ? 6 : 5;
	uint8_t proto = protos[rnd(sizeof(protos))];

	memset(f, 0, cap);
	for (uint32_t i = 0; i < 12; i++)
		f[i] = (uint8_t)rnd(256);
	for (uint32_t t = 0; t < n_tags; t++) {
		uint16_t tt = tag_types[rnd(sizeof(tag_types) / sizeof(tag_types[0]))], tci = (uint16_t)rnd(65536);

		f[o] = (uint8_t)(tt >> 8);
		f[o + 1] = (uint8_t)tt;
		f[o + 2] = (uint8_t)(tci >> 8);
		f[o + 3] = (uint8_t)tci;
		o += 4;
	}
	f[o] = rnd(8) == 0 ? 0x86 : 0x08;
	f[o + 1] = rnd(8) == 0 ? 0x06 : 0x00;
	o += 2;
	f[o] = (uint8_t)(0x40 | ihl);
	f[o + 1] = (uint8_t)rnd(256);
	f[o + 6] = rnd(4) == 0 ? (uint8_t)rnd(256) : 0;
	f[o + 7] = rnd(4) == 0 ? (uint8_t)rnd(256) : 0;
	f[o + 8] = 64;
	f[o + 9] = proto;
	for (uint32_t i = 12; i < 20; i++)
		f[o + i] = (uint8_t)rnd(256);
	o += ihl * 4;
	for (uint32_t i = 0; i < 20; i++)
		f[o + i] = (uint8_t)rnd(256);
	if (rnd(4) == 0) { /* the L2TP port, on either side */
		uint32_t side = rnd(2) * 2;

		f[o + side] = 1701 >> 8;
		f[o + side + 1] = 1701 & 255;
	}
	o += 20;
	o += rnd(cap - o + 1);
	return o;
}

static void hex(const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 100000, fast = 0, differ = 0, heads = 0;
	uint8_t tmpl[96];

	rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) | 1 : 0x9e3779b97f4a7c15ull;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = build(tmpl, sizeof(tmpl)), flips = rnd(3) == 0 ? 1 + rnd(3) : 0;
		uint32_t in_port = rnd(3) == 0 ? rnd(65536) : 1;
		struct key k1, k2;
		struct pkt_layout l1, l2;
		uint8_t *f;

		for (uint32_t j = 0; j < flips; j++)
			tmpl[rnd(len < 48 ? len + 1 : 48) % sizeof(tmpl)] ^= (uint8_t)(1u << rnd(8));
		if (rnd(5) == 0)
			len = rnd(len + 1);
		f = malloc(len + (len == 0));
		memcpy(f, tmpl, len);
		memset(&k1, 0xa5, sizeof(k1));
		memset(&k2, 0x5a, sizeof(k2));
		memset(&l1, 0xa5, sizeof(l1));
		memset(&l2, 0x5a, sizeof(l2));
		pkt_parse(f, len, in_port, &k1, &l1);
		pkt_parse_generic(f, len, in_port, &k2, &l2);
		{
			/* pkt_parse_hash: the same key, its key_hash, and "head only" only when true */
			struct key k3;
			struct pkt_layout l3;
			uint32_t h = 0;
			int head = pkt_parse_hash(f, len, in_port, &k3, &l3, &h);

			if (memcmp(&k3, &k2, sizeof(k3)) != 0 || memcmp(&l3, &l2, sizeof(l3)) != 0 ||
			    h != key_hash(&k2) || (head && !key_tail_zero(&k2))) {
				if (differ++ < 10) {
					printf("pkt_parse_hash differs (head %d) len %u: ", head, len);
					hex(f, len);
				}
			}
			heads += (uint32_t)head;
		}
		/* the fast path's shape, as the general parser sees it */
		if (l2.l3 == L3_IPV4 && l2.n_vlan <= 1 && l2.l4_ofs == l2.l3_ofs + 20 &&
		    (k2.ip_proto == 6 || k2.ip_proto == 17) && k2.l2tp_tunnel_id == 0 && k2.l2tp_session_id == 0)
			fast++;
		if (memcmp(&k1, &k2, sizeof(k1)) != 0 || memcmp(&l1, &l2, sizeof(l1)) != 0) {
			if (differ++ < 10) {
				printf("differ len %u: ", len);
				hex(f, len);
			}
		}
		free(f);
	}
	printf("frames %u fast_shape %u head_only %u differ %u\n", n, fast, heads, differ);
	return differ != 0;
}
