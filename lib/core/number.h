/* number.h - reading and writing decimal numbers the same way whatever
 * setlocale() the calling program made: '.' is always the decimal point.
 * Internal, never installed; thread-safe. */
#ifndef DN_NUMBER_H
#define DN_NUMBER_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* True, with *value set, when all of text is one finite decimal number
 * (strtod's syntax in the "C" locale, no leading or trailing space). */
bool dn_parse_double(const char *text, double *value);

/* strtod in the "C" locale: *end (if not NULL) gets the first byte after
 * the number. Infinities and NaN are parsed like strtod does; callers check. */
double dn_strtod(const char *text, char **end);

/* snprintf in the "C" locale. */
int dn_snprintf(char *dst, size_t capacity, const char *fmt, ...) DN_PRINTF(3, 4);

#endif
