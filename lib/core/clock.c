/* clock.c - the monotonic clock behind timings and throughput figures. */
#include <time.h>

#include "digitnet/clock.h"

double dn_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
