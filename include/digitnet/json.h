/* digitnet/json.h - writing JSON strings and numbers.
 *
 * Tools that print machine-readable output (--json) need string values
 * quoted and escaped correctly and numbers that every parser accepts, in
 * any locale; these functions do exactly that. Strings are always valid JSON: '"' and '\' are backslash-escaped, control
 * characters become \n, \t, ... or \u00XX, DEL becomes \u007f, well-formed
 * UTF-8 passes through unchanged, and each byte that is not part of a
 * well-formed UTF-8 sequence becomes \ufffd (the replacement character).
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: the functions keep no state and read only their arguments:
 * any may run in any thread at any time (two writing to one FILE at once
 * interleave as stdio does). */
#ifndef DIGITNET_JSON_H
#define DIGITNET_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "digitnet/export.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes src as a quoted JSON string into dst, snprintf-style: at most
 * capacity - 1 bytes and a terminating NUL (nothing when capacity is 0).
 * Returns the length of the full quoted string, so a result >= capacity
 * means the output was cut; call with capacity 0 to size a buffer (dst may
 * then be NULL); a NULL src counts as "". Cannot fail. */
DN_API size_t dn_json_escape(char *dst, size_t capacity, const char *src);

/* Writes src to f as a quoted JSON string. DN_ERR_IO if the stream fails,
 * DN_ERR_ARG if f or src is NULL. */
DN_API dn_status dn_json_write_string(FILE *f, const char *src);

/* Writes value with `decimals` digits after the point (0 to 17) into
 * dst[0..capacity), NUL-terminated, always with '.' as the decimal point
 * whatever setlocale() the program made. JSON has no NaN or infinity: those
 * are refused with DN_ERR_ARG and dst is left "". DN_ERR_ARG too when the
 * number does not fit (a double needs at most 330 + decimals bytes). */
DN_API dn_status dn_json_format_number(char *dst, size_t capacity, double value, int decimals);

#ifdef __cplusplus
}
#endif
#endif
