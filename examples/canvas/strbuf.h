/* strbuf.h - a growable text buffer for building response bodies. */
#ifndef CANVAS_STRBUF_H
#define CANVAS_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

/* Zero-initialise (= {0}) before use; data is owned and NUL-terminated once
 * anything was appended. An allocation failure sets failed and makes every
 * later append a no-op, so callers check once at the end. */
typedef struct strbuf {
    char *data;
    size_t len, cap;
    bool failed;
} strbuf;

void strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_append(strbuf *b, const char *text, size_t len);

/* Empties the buffer, keeping its memory for reuse. */
void strbuf_reset(strbuf *b);

/* Releases the memory and zeroes *b. */
void strbuf_free(strbuf *b);

#endif
