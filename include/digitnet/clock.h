/* digitnet/clock.h - wall-clock time for measurements.
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: dn_seconds may be called from any thread at any time. */
#ifndef DIGITNET_CLOCK_H
#define DIGITNET_CLOCK_H

#include "digitnet/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds from a monotonic clock (an arbitrary origin): subtract two calls.
 * Cannot fail. */
DN_API double dn_seconds(void);

#ifdef __cplusplus
}
#endif
#endif
