/* digitnet/clock.h - wall-clock time for measurements. */
#ifndef DIGITNET_CLOCK_H
#define DIGITNET_CLOCK_H

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds from a monotonic clock (an arbitrary origin): subtract two calls. */
double dn_seconds(void);

#ifdef __cplusplus
}
#endif
#endif
