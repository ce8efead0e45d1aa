/* status.c - status names and the per-thread error message behind
 * dn_last_error(), with the context callers chain onto it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { DN_MESSAGE_CAPACITY = 512 };

static _Thread_local char last_message[DN_MESSAGE_CAPACITY];

const char *dn_status_name(dn_status status)
{
    switch (status) {
    case DN_OK: return "ok";
    case DN_ERR_NOMEM: return "out of memory";
    case DN_ERR_ARG: return "invalid argument";
    case DN_ERR_IO: return "I/O error";
    case DN_ERR_FORMAT: return "malformed input";
    case DN_ERR_SHAPE: return "shape mismatch";
    case DN_ERR_UNSUPPORTED: return "unsupported";
    case DN_ERR_NUMERIC: return "non-finite value";
    case DN_ERR_LIMIT: return "over a limit";
    case DN_ERR_STOPPED: return "stopped";
    }
    return "unknown status";
}

const char *dn_last_error(void) { return last_message; }

void dn_clear_error(void) { last_message[0] = '\0'; }

dn_status dn_fail(dn_status status, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, args);
    va_end(args);
    return status;
}

dn_status dn_fail_context(dn_status status, const char *fmt, ...)
{
    char previous[DN_MESSAGE_CAPACITY];
    memcpy(previous, last_message, sizeof previous);
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, args);
    va_end(args);
    /* append ": previous", cut to what fits */
    size_t len = strlen(last_message);
    if (len + 3 < sizeof last_message) {
        memcpy(last_message + len, ": ", 2);
        len += 2;
        size_t room = sizeof last_message - len - 1;
        size_t tail = strnlen(previous, room);
        memcpy(last_message + len, previous, tail);
        last_message[len + tail] = '\0';
    }
    return status;
}
