/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every file: branch hints, atomics, byte order, error reporting. */
#ifndef OFSW_UTIL_H
#define OFSW_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "ofsw.h"
#include "of13.h"

#define ATOMIC_LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ATOMIC_LOAD_RLX(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define ATOMIC_STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ATOMIC_STORE_RLX(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t rd64(const uint8_t *p) { return ((uint64_t)rd32(p) << 32) | rd32(p + 4); }

/*
 * Record the failure of the current call (thread-local, read by ofsw_Error_last) and return
 * `code` (a negative errno) so that call sites read `return ofsw_fail(-EINVAL, ...)`.
 */
int ofsw_fail(int code, uint16_t of_type, uint16_t of_code, int32_t offset, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Forget the last failure (every API entry point starts with it). */
void ofsw_ok(void);

#endif
