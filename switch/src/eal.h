/* SPDX-License-Identifier: Apache-2.0 */
/* EAL initialisation, once per process (see eal.c). */
#ifndef OFSW_EAL_H
#define OFSW_EAL_H

#include <stdint.h>

/* Initialise the EAL from args (first call) or do nothing (later calls). */
int eal_init_once(const char *args, uint32_t n_workers);
/* The first n worker lcores. */
int eal_workers(uint32_t n, unsigned int *lcores);

#endif
