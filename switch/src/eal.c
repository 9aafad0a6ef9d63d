/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EAL, once per process. DPDK 22.11 cannot initialise the EAL a second time (not even after
 * rte_eal_cleanup), so the first switch initialises it and every later switch reuses it.
 *
 * Defaults added to the caller's arguments (each only when the caller did not say otherwise):
 * - --lcores: main lcore 0 floats over every CPU the process may use (it is the caller's
 *   thread — Node's main thread — and must not be pinned to one core), worker i pinned to a
 *   CPU of its own counting down from the last one;
 * - --no-shconf: no shared config file, so several processes (parallel test files) can each
 *   run a primary EAL; --in-memory would do too but is refused with --no-huge;
 * - --no-telemetry: no telemetry socket in the shared runtime directory.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "eal.h"
#include "util.h"

#define EAL_MAX_ARGS 128

static int eal_state; /* 0: not tried, 1: up, <0: failed (cannot be retried) */

static int has_opt(char **argv, int argc, const char *const *names)
{
	for (int i = 1; i < argc; i++)
		for (const char *const *n = names; *n != NULL; n++) {
			size_t l = strlen(*n);

			/* "--opt", "--opt=x"; short options also glued to their value ("-l0-1") */
			if (strncmp(argv[i], *n, l) == 0 &&
			    (argv[i][l] == '\0' || argv[i][l] == '=' || (l == 2 && argv[i][1] != '-')))
				return 1;
		}
	return 0;
}

static void lcores_arg(char *buf, size_t len, uint32_t n_workers)
{
	cpu_set_t set;
	int cpus[CPU_SETSIZE], n = 0;
	size_t o;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
	if (n == 0)
		cpus[n++] = 0;
	o = (size_t)snprintf(buf, len, "--lcores=0@(");
	for (int i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? "," : "", cpus[i]);
	if (o < len)
		o += (size_t)snprintf(buf + o, len - o, ")");
	for (uint32_t w = 1; w <= n_workers && o < len; w++)
		o += (size_t)snprintf(buf + o, len - o, ",%u@%d", w, cpus[n - 1 - (int)((w - 1) % (uint32_t)n)]);
}

int eal_init_once(const char *args, uint32_t n_workers)
{
	static char *argv[EAL_MAX_ARGS + 1]; /* EAL may keep pointers into argv: never freed */
	static char lcores[1024];
	static const char *const lcore_opts[] = { "-l", "-c", "--lcores", NULL };
	static const char *const shconf_opts[] = { "--file-prefix", "--in-memory", "--no-shconf", NULL };
	static const char *const telemetry_opts[] = { "--telemetry", "--no-telemetry", NULL };
	char *copy, *save = NULL;
	int argc = 0, rc;

	if (eal_state > 0)
		return 0;
	if (eal_state < 0)
		return ofsw_fail(eal_state, OFPET_NONE, 0, -1, "EAL initialisation failed earlier in this process");
	copy = strdup(args ? args : "");
	if (copy == NULL)
		return ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
	argv[argc++] = (char *)"ofsw";
	for (char *t = strtok_r(copy, " \t\n", &save); t != NULL; t = strtok_r(NULL, " \t\n", &save)) {
		if (argc >= EAL_MAX_ARGS - 3)
			return ofsw_fail(-E2BIG, OFPET_NONE, 0, -1, "EAL: more than %d arguments", EAL_MAX_ARGS - 3);
		argv[argc++] = t;
	}
	if (!has_opt(argv, argc, lcore_opts)) {
		lcores_arg(lcores, sizeof(lcores), n_workers);
		argv[argc++] = lcores;
	}
	if (!has_opt(argv, argc, shconf_opts))
		argv[argc++] = (char *)"--no-shconf";
	if (!has_opt(argv, argc, telemetry_opts))
		argv[argc++] = (char *)"--no-telemetry";
	argv[argc] = NULL;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		eal_state = -(rte_errno ? rte_errno : EINVAL);
		return ofsw_fail(eal_state, OFPET_NONE, 0, -1, "EAL: rte_eal_init failed: %s (arguments: %s)",
				 rte_strerror(rte_errno), args ? args : "");
	}
	eal_state = 1;
	return 0;
}

int eal_workers(uint32_t n, unsigned int *lcores)
{
	uint32_t k = 0;
	unsigned int lc;

	RTE_LCORE_FOREACH_WORKER(lc) {
		if (k == n)
			break;
		lcores[k++] = lc;
	}
	if (k < n)
		return ofsw_fail(-EINVAL, OFPET_NONE, 0, -1, "EAL has %u worker lcores, %u requested", k, n);
	return 0;
}
