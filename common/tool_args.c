/* tool_args.c - strict option values and error lines for dn-train,
 * dn-predict and dn-canvas. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_args.h"

static const char *program = "digitnet";

void tool_set_program(const char *name) { program = name; }

void tool_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

bool tool_parse_int(const char *option, const char *text, long min, long max, long *value)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        tool_error("%s: expected an integer from %ld to %ld, got '%s'", option, min, max, text);
        return false;
    }
    *value = v;
    return true;
}

bool tool_parse_float(const char *option, const char *text, double min, double max, double *value)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < min || v > max) {
        tool_error("%s: expected a number from %g to %g, got '%s'", option, min, max, text);
        return false;
    }
    *value = v;
    return true;
}

bool tool_match(const char *arg, const char *name, const char **inline_value)
{
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return false;
    if (arg[len] == '\0') {
        *inline_value = NULL;
        return true;
    }
    if (arg[len] == '=') {
        *inline_value = arg + len + 1;
        return true;
    }
    return false;
}

const char *tool_value(int argc, char **argv, int *i, const char *inline_value)
{
    if (inline_value)
        return inline_value;
    if (*i + 1 >= argc) {
        tool_error("%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}
