/*
 * The round trip of one cache line between the machine's first two CPUs, every 0.3 s: one
 * thread pinned to CPU 0 makes a counter odd, one pinned to CPU 1 makes it even, 200,000 times a
 * sample. On the project's 2-core Zen 4 VMs it is bimodal, 51-65 ns or 340-370 ns, and switches
 * every few seconds: the host runs the two virtual CPUs on cores that share an L3 or on two core
 * complexes (CCDs). Two-thread benchmark runs that land in the second state run slower (BENCHMARKS.md,
 * "Two-thread speed modes"). In C, not Java: the JVM cannot pin its threads, and a Java version
 * (unpinned, with the JIT's and GC's threads about) blurred the two levels into 65-220 ns.
 *
 *   gcc -O2 -pthread -o /tmp/core_to_core benchmarks/machine/core_to_core.c
 *   /tmp/core_to_core 60        # seconds; one line per sample: elapsed seconds, nanoseconds
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pinned.h"

static _Alignas(64) atomic_int counter;
static atomic_int stop;

static void *answer(void *unused) {
    (void) unused;
    pin(1);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        int v = atomic_load_explicit(&counter, memory_order_acquire);
        if (v & 1) atomic_store_explicit(&counter, v + 1, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 30;
    pthread_t other;
    pthread_create(&other, NULL, answer, NULL);
    pin(0);
    double start = now();
    while (now() - start < seconds) {
        const int exchanges = 200000;
        double t0 = now();
        for (int i = 0; i < exchanges; i++) {
            int v = atomic_load_explicit(&counter, memory_order_relaxed);
            atomic_store_explicit(&counter, v + 1, memory_order_release);
            while (atomic_load_explicit(&counter, memory_order_acquire) == v + 1) {
            }
        }
        printf("%6.1f s  %4.0f ns\n", now() - start, (now() - t0) / exchanges * 1e9);
        fflush(stdout);
        struct timespec pause = {0, 300000000};
        nanosleep(&pause, NULL);
    }
    atomic_store(&stop, 1);
    pthread_join(other, NULL);
    return 0;
}
