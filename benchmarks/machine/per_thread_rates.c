/*
 * What each of one or two threads pinned to CPU 0 and CPU 1 gets done, every 0.5 s: 512-bit
 * fmas (`fma`: twelve independent chains, GFLOP/s) or reads of a private buffer (`read MB`:
 * GB/s; 6 MB each stays in the 32 MB L3 of the project's Zen 4 VMs). Companion to
 * core_to_core.c: two-thread benchmark runs on these VMs have slow spells (BENCHMARKS.md,
 * "Two-thread speed modes"), and this tells whether the cores themselves slow down in them
 * (a host placing another tenant on their SMT siblings, a lower clock) or only the traffic between
 * them does. Needs AVX-512F.
 *
 *   gcc -O2 -mavx512f -pthread -o /tmp/per_thread_rates benchmarks/machine/per_thread_rates.c
 *   /tmp/per_thread_rates 150 2 fma       # seconds, threads, what; one line per sample
 *   /tmp/per_thread_rates 60 2 read 6
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pinned.h"

static atomic_int stop;
static _Atomic double rate[2];
static int reads;      /* 1: read a buffer; 0: fmas */
static long bufferMb;

/* Twelve chains of fmas (latency 4, so enough to keep both pipes busy) for about 0.2 s; GFLOP/s. */
static double fmaWindow(float seed) {
    __m512 m = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-4f);
    /* Distinct starting values: equal chains would be computed once. */
    __m512 a0 = _mm512_set1_ps(seed), a1 = _mm512_set1_ps(seed + 0.01f), a2 = _mm512_set1_ps(seed + 0.02f);
    __m512 a3 = _mm512_set1_ps(seed + 0.03f), a4 = _mm512_set1_ps(seed + 0.04f), a5 = _mm512_set1_ps(seed + 0.05f);
    __m512 a6 = _mm512_set1_ps(seed + 0.06f), a7 = _mm512_set1_ps(seed + 0.07f), a8 = _mm512_set1_ps(seed + 0.08f);
    __m512 a9 = _mm512_set1_ps(seed + 0.09f), a10 = _mm512_set1_ps(seed + 0.10f), a11 = _mm512_set1_ps(seed + 0.11f);
    long rounds = 0;
    double t0 = now(), t;
    do {
        for (int r = 0; r < 1000; r++) {
            a0 = _mm512_fmadd_ps(a0, m, c); a1 = _mm512_fmadd_ps(a1, m, c); a2 = _mm512_fmadd_ps(a2, m, c);
            a3 = _mm512_fmadd_ps(a3, m, c); a4 = _mm512_fmadd_ps(a4, m, c); a5 = _mm512_fmadd_ps(a5, m, c);
            a6 = _mm512_fmadd_ps(a6, m, c); a7 = _mm512_fmadd_ps(a7, m, c); a8 = _mm512_fmadd_ps(a8, m, c);
            a9 = _mm512_fmadd_ps(a9, m, c); a10 = _mm512_fmadd_ps(a10, m, c); a11 = _mm512_fmadd_ps(a11, m, c);
        }
        rounds += 1000;
    } while ((t = now()) - t0 < 0.2);
    __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                               _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    sum = _mm512_add_ps(sum, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    if (_mm512_reduce_add_ps(sum) == 1.25f) puts(""); /* keeps the chains live */
    return rounds * 12.0 * 32 / (t - t0) / 1e9;
}

/* Reads the whole buffer as often as fits in about 0.2 s; GB/s. */
static double readWindow(const float *buffer, long floats) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    long bytes = 0;
    double t0 = now(), t;
    do {
        for (long i = 0; i < floats; i += 64) {
            a0 = _mm512_add_ps(a0, _mm512_load_ps(buffer + i));
            a1 = _mm512_add_ps(a1, _mm512_load_ps(buffer + i + 16));
            a2 = _mm512_add_ps(a2, _mm512_load_ps(buffer + i + 32));
            a3 = _mm512_add_ps(a3, _mm512_load_ps(buffer + i + 48));
        }
        bytes += floats * 4;
    } while ((t = now()) - t0 < 0.2);
    if (_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))) == 1.25f) puts("");
    return bytes / (t - t0) / 1e9;
}

static void *work(void *arg) {
    long id = (long) arg;
    pin((int) id);
    long floats = bufferMb * 1024 * 1024 / 4;
    float *buffer = NULL;
    if (reads) {
        buffer = aligned_alloc(64, floats * 4);
        for (long i = 0; i < floats; i++) buffer[i] = (float) (i % 1000) * 1e-6f;
    }
    while (!atomic_load(&stop)) atomic_store(&rate[id], reads ? readWindow(buffer, floats) : fmaWindow(1.0f + id));
    free(buffer);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[3], "fma") != 0 && strcmp(argv[3], "read") != 0)) {
        fprintf(stderr, "usage: %s seconds threads(1|2) fma | read MB\n", argv[0]);
        return 2;
    }
    double seconds = atof(argv[1]);
    int threads = atoi(argv[2]) == 1 ? 1 : 2;
    reads = strcmp(argv[3], "read") == 0;
    bufferMb = reads && argc > 4 ? atol(argv[4]) : 6;
    if (bufferMb < 1) bufferMb = 1;
    pthread_t t[2];
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, work, (void *) i);
    double t0 = now();
    while (now() - t0 < seconds) {
        struct timespec pause = {0, 500000000};
        nanosleep(&pause, NULL);
        printf("%6.1f s  %7.1f %7.1f %s\n", now() - t0, atomic_load(&rate[0]), atomic_load(&rate[1]), reads ? "GB/s" : "GFLOP/s");
        fflush(stdout);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    return 0;
}
