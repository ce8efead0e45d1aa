/* test_threads.c - dn_threads_pin: each OpenMP thread on one CPU of its own,
 * nothing done for a lone thread or when OMP_PROC_BIND is set, and a
 * negative count refused. Pins this test's own process. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "digitnet/threads.h"
#include "test_util.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__linux__) && defined(_OPENMP)
#include <sched.h>

/* The CPUs each of a team of 2 may run on, as counts, and the CPU of each
 * one that has a single CPU (-1 otherwise). */
static void team_masks(int counts[2], int cpus[2])
{
#pragma omp parallel num_threads(2)
    {
        int k = omp_get_thread_num();
        cpu_set_t mask;
        counts[k] = sched_getaffinity(0, sizeof mask, &mask) == 0 ? CPU_COUNT(&mask) : -1;
        cpus[k] = -1;
        for (int c = 0; counts[k] == 1 && c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &mask))
                cpus[k] = c;
    }
}
#endif

int main(void)
{
    int pinned = -1;
    CHECK(dn_threads_pin(-1, &pinned) == DN_ERR_ARG && pinned == 0, "a negative count is refused");
    CHECK(strstr(dn_last_error(), "dn_threads_pin") != NULL, "the message names the function: %s", dn_last_error());
    CHECK_OK(dn_threads_pin(1, &pinned));
    CHECK(pinned == 0, "a lone thread is left free (%d pinned)", pinned);
#if defined(__linux__) && defined(_OPENMP)
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2 || getenv("OMP_PROC_BIND")) {
        printf("skipped the pinning checks: fewer than 2 CPUs allowed, or OMP_PROC_BIND set\n");
        return dn_test_finish();
    }
    omp_set_dynamic(0);
    int counts[2], cpus[2];
    team_masks(counts, cpus);
    CHECK(counts[0] >= 2 && counts[1] >= 2, "before: threads free to move (%d and %d CPUs)", counts[0], counts[1]);

    setenv("OMP_PROC_BIND", "true", 1); /* OpenMP's own placement asked for: left to it */
    CHECK_OK(dn_threads_pin(2, &pinned));
    CHECK(pinned == 0, "with OMP_PROC_BIND set nothing is pinned (%d)", pinned);
    unsetenv("OMP_PROC_BIND");

    CHECK_OK(dn_threads_pin(2, &pinned));
    CHECK(pinned == 2, "a team of 2 pinned (%d)", pinned);
    team_masks(counts, cpus);
    CHECK(counts[0] == 1 && counts[1] == 1, "each thread on one CPU (%d and %d)", counts[0], counts[1]);
    CHECK(cpus[0] != cpus[1] && CPU_ISSET(cpus[0], &allowed) && CPU_ISSET(cpus[1], &allowed),
          "on two different CPUs it was allowed (%d and %d)", cpus[0], cpus[1]);
    CHECK_OK(dn_threads_pin(0, NULL)); /* again, no count wanted: the main thread now has one CPU, so a no-op */
#else
    CHECK_OK(dn_threads_pin(4, &pinned));
    CHECK(pinned == 0, "without OpenMP (or off Linux) nothing is pinned (%d)", pinned);
#endif
    return dn_test_finish();
}
