/* number.c - decimal numbers read and written in the "C" locale, so that a
 * program's setlocale(LC_NUMERIC, "de_DE") cannot turn 0.25 into "0,25". */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "number.h"

/* The "C" locale, made on first use and kept for the life of the process
 * (freeing it would race with threads using it). NULL only when it cannot
 * be made (out of memory); callers then fall back to the current locale. */
static locale_t c_locale(void)
{
    static locale_t cached;
    locale_t have = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
    if (have)
        return have;
    locale_t made = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!made)
        return (locale_t)0;
    locale_t expected = (locale_t)0;
    if (!__atomic_compare_exchange_n(&cached, &expected, made, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        freelocale(made); /* another thread made it first */
        return expected;
    }
    return made;
}

double dn_strtod(const char *text, char **end)
{
    locale_t c = c_locale();
    return c ? strtod_l(text, end, c) : strtod(text, end);
}

bool dn_parse_double(const char *text, double *value)
{
    char *end;
    errno = 0;
    double v = dn_strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || (*text != '-' && *text != '+' &&
                                                         *text != '.' && (*text < '0' || *text > '9')))
        return false;
    *value = v;
    return true;
}

int dn_snprintf(char *dst, size_t capacity, const char *fmt, ...)
{
    locale_t c = c_locale();
    locale_t saved = c ? uselocale(c) : (locale_t)0;
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(dst, capacity, fmt, args);
    va_end(args);
    if (c)
        uselocale(saved);
    return n;
}
