/* digitnet/clock.h - wall-clock time for measurements. */
#ifndef DIGITNET_CLOCK_H
#define DIGITNET_CLOCK_H

#include "digitnet/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds from a monotonic clock (an arbitrary origin): subtract two calls. */
DN_API double dn_seconds(void);

#ifdef __cplusplus
}
#endif
#endif
