/* json_parse.h - a small strict JSON parser for the library's own readers (the
 * safetensors header); internal, never installed.
 *
 * dn_json_parse reads one complete RFC 8259 document into a tree owned by a
 * dn_json_doc: objects, arrays, strings (every escape, \uXXXX surrogate pairs
 * decoded to UTF-8), numbers, true, false and null. It is strict: raw strings
 * must be valid UTF-8 without control characters, lone surrogates are
 * refused, any object with a repeated key is refused, nesting deeper than
 * DN_JSON_MAX_DEPTH is refused, and only whitespace may follow the value
 * (so space padding is fine, a byte-order mark or trailing garbage is not).
 * On failure the message reads "byte 12 (line 1, column 13): expected ':'
 * after an object key"; callers prefix it with dn_fail_context(). A parsed
 * tree is read-only, so several threads may read one doc at once. */
#ifndef DN_JSON_PARSE_H
#define DN_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/json.h"
#include "digitnet/status.h"

#define DN_JSON_MAX_DEPTH 64

typedef enum dn_json_type {
    DN_JSON_NULL,
    DN_JSON_FALSE,
    DN_JSON_TRUE,
    DN_JSON_NUMBER,
    DN_JSON_STRING,
    DN_JSON_ARRAY,
    DN_JSON_OBJECT,
} dn_json_type;

typedef struct dn_json_member dn_json_member;

typedef struct dn_json {
    dn_json_type type;
    size_t length; /* bytes of a string, items of an array, members of an object */
    union {
        const char *string;             /* decoded UTF-8, NUL-terminated; may hold NULs */
        const struct dn_json *items;    /* length items, in document order */
        const dn_json_member *members;  /* length members, in document order */
    };
    double number;      /* a number's value (integers above 2^53 are rounded) */
    bool integer;       /* written without fraction or exponent and |value| < 2^64 */
    bool negative;      /* the literal starts with '-' */
    uint64_t magnitude; /* |value| exactly, when integer */
} dn_json;

struct dn_json_member {
    const char *key; /* decoded UTF-8, NUL-terminated; may hold NULs */
    size_t key_length;
    dn_json value;
};

struct dn_json_block;

/* A parsed document: root plus the memory every node, string and array of
 * it lives in. Freed as a whole by dn_json_free. */
typedef struct dn_json_doc {
    dn_json root;
    struct dn_json_block *blocks;
} dn_json_doc;

/* Parses text[0..length) (no NUL terminator needed). On failure *doc is left
 * empty (safe to free) and the status is DN_ERR_FORMAT or DN_ERR_NOMEM. */
dn_status dn_json_parse(dn_json_doc *doc, const char *text, size_t length);

/* Releases everything the doc owns and empties it; safe on an empty doc. */
void dn_json_free(dn_json_doc *doc);

/* The value of key in object, or NULL if object is not an object or has no
 * such key (keys holding NULs never match). Linear in the member count. */
const dn_json *dn_json_get(const dn_json *object, const char *key);

/* True, with *out set, when value is a number written as a plain integer in
 * [0, 2^64) ("-0" counts as 0); false for anything else, "3.0" and "3e0" too. */
bool dn_json_get_u64(const dn_json *value, uint64_t *out);

/* "null", "a boolean", "a number", "a string", "an array" or "an object". */
const char *dn_json_type_name(dn_json_type type);

/* True when s[0..length) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
bool dn_utf8_valid(const char *s, size_t length);

#endif
