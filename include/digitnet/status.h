/* digitnet/status.h - status codes and the per-thread error message.
 *
 * Every public function that can fail returns a dn_status. On failure the
 * library also records a one-line message saying what failed and why; read it
 * with dn_last_error() from the same thread. The library never prints, exits
 * or aborts on bad input. digitnet.h states the conventions of every header.
 *
 * Thread-safety: the message is kept per thread, so a failure in one thread
 * never changes what another reads; every function here may run in any
 * thread at any time. */
#ifndef DIGITNET_STATUS_H
#define DIGITNET_STATUS_H

#include "digitnet/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dn_status {
    DN_OK = 0,
    DN_ERR_NOMEM,       /* an allocation failed */
    DN_ERR_ARG,         /* a caller passed an invalid argument */
    DN_ERR_IO,          /* the operating system refused a read or write */
    DN_ERR_FORMAT,      /* outside bytes (a file, a request) are malformed */
    DN_ERR_SHAPE,       /* tensor shapes do not fit together */
    DN_ERR_UNSUPPORTED, /* valid, but not something digitnet handles */
    DN_ERR_NUMERIC,     /* a computation gave NaN or infinity (diverged training,
                           weights too large for float): never returned as a number */
    DN_ERR_LIMIT,       /* would need more memory than the configured limit */
    DN_ERR_STOPPED,     /* the caller asked a long computation to stop (a training
                           progress callback returned false): not a failure of
                           the library, and what was done so far is kept */
} dn_status;

/* Short name of a status ("out of memory", "malformed input", ...), a static
 * string; "unknown status" for a value that is none. Cannot fail. */
DN_API const char *dn_status_name(dn_status status);

/* The message of the most recent failure on the calling thread, or "" if none.
 * The pointer stays valid until the next failing call on this thread. */
DN_API const char *dn_last_error(void);

/* Forgets the calling thread's last message: dn_last_error() then gives "". */
DN_API void dn_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
