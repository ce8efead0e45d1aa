/* threads.c - dn_threads_pin: OpenMP's threads each on a core of its own. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/threads.h"
#include "internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__linux__) && defined(_OPENMP)
#include <sched.h>

/* The number in a small sysfs file, or -1. */
static long read_number_file(const char *path)
{
    FILE *f = fopen(path, "r");
    long value = -1;
    if (f) {
        if (fscanf(f, "%ld", &value) != 1)
            value = -1;
        fclose(f);
    }
    return value;
}

/* The CPUs the process may run on, one per core first (each core's first
 * CPU in the mask, by package and core id), then the others, in mask order;
 * their count. */
static int cpus_by_core(const cpu_set_t *allowed, int *cpus)
{
    int all[CPU_SETSIZE], n = 0, count = 0;
    long package[CPU_SETSIZE], core[CPU_SETSIZE];
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, allowed))
            continue;
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", c);
        package[n] = read_number_file(path);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", c);
        core[n] = read_number_file(path);
        all[n++] = c;
    }
    bool taken[CPU_SETSIZE] = {false};
    for (int i = 0; i < n; i++) { /* first the CPUs of a core not seen yet */
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = core[i] >= 0 && package[j] == package[i] && core[j] == core[i];
        if (!seen) {
            cpus[count++] = all[i];
            taken[i] = true;
        }
    }
    for (int i = 0; i < n; i++)
        if (!taken[i])
            cpus[count++] = all[i];
    return count;
}

dn_status dn_threads_pin(int threads, int *pinned)
{
    int scratch;
    pinned = pinned ? pinned : &scratch;
    *pinned = 0;
    if (threads < 0)
        return dn_fail(DN_ERR_ARG, "dn_threads_pin: threads is %d", threads);
    int team = threads > 0 ? threads : omp_get_max_threads();
    cpu_set_t allowed;
    if (team < 2 || getenv("OMP_PROC_BIND") || sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return DN_OK;
    int cpus[CPU_SETSIZE];
    int n = cpus_by_core(&allowed, cpus), done = 0, refused = 0;
    if (n >= 2) {
#pragma omp parallel num_threads(team) reduction(+ : done, refused)
        {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpus[omp_get_thread_num() % n], &one);
            if (sched_setaffinity(0, sizeof one, &one) == 0) /* 0: the calling thread */
                done++;
            else
                refused++;
        }
    }
    *pinned = done;
    if (refused)
        return dn_fail(DN_ERR_IO, "dn_threads_pin: the kernel refused to pin %d of %d threads", refused, team);
    return DN_OK;
}
#else
dn_status dn_threads_pin(int threads, int *pinned)
{
    if (pinned)
        *pinned = 0;
    if (threads < 0)
        return dn_fail(DN_ERR_ARG, "dn_threads_pin: threads is %d", threads);
    return DN_OK;
}
#endif
