/*
 * What the machine probes in this folder share: pinning the calling thread to one CPU, and a
 * monotonic clock in seconds. Included by path from the probe's own folder, so each probe still
 * builds from its one source file (see its header comment for the gcc line).
 */
#ifndef NEURITE_MACHINE_PINNED_H
#define NEURITE_MACHINE_PINNED_H

#include <pthread.h>
#include <sched.h>
#include <time.h>

/* Pins the calling thread to CPU cpu (needs _GNU_SOURCE before the first include). */
static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* CLOCK_MONOTONIC in seconds. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#endif
