/* json.c - a strict JSON parser into an arena-backed tree, plus the JSON
 * string escaper behind digitnet/json.h. */
#define _GNU_SOURCE
#include <math.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "json_parse.h"
#include "number.h"

enum { DN_JSON_BLOCK_BYTES = 16384 };

struct dn_json_block {
    struct dn_json_block *next;
    size_t used, capacity;
    alignas(max_align_t) unsigned char bytes[];
};

typedef struct parser {
    const unsigned char *text;
    size_t length, pos;
    dn_json_doc *doc;
    dn_json_member *stack; /* children of the containers being parsed */
    size_t stack_count, stack_capacity;
} parser;

/* ---- UTF-8 ---- */

/* Length of the well-formed UTF-8 sequence at s[0..length) and its code
 * point, or 0 if the bytes there are not one. */
static size_t utf8_decode(const unsigned char *s, size_t length, uint32_t *code)
{
    if (length == 0)
        return 0;
    unsigned char b = s[0];
    if (b < 0x80) {
        *code = b;
        return 1;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF)
        n = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        if (b == 0xE0)
            lo = 0xA0;
        if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        if (b == 0xF0)
            lo = 0x90;
        if (b == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (length < n || s[1] < lo || s[1] > hi)
        return 0;
    uint32_t c = b & (0xFF >> (n + 1));
    c = (c << 6) | (s[1] & 0x3F);
    for (size_t i = 2; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    *code = c;
    return n;
}

bool dn_utf8_valid(const char *s, size_t length)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < length) {
        uint32_t code;
        size_t n = utf8_decode(u + i, length - i, &code);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static size_t utf8_encode(uint32_t code, char *out)
{
    if (code < 0x80) {
        out[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char)(0xC0 | (code >> 6));
        out[1] = (char)(0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char)(0xE0 | (code >> 12));
        out[1] = (char)(0x80 | ((code >> 6) & 0x3F));
        out[2] = (char)(0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (code >> 18));
    out[1] = (char)(0x80 | ((code >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((code >> 6) & 0x3F));
    out[3] = (char)(0x80 | (code & 0x3F));
    return 4;
}

/* ---- arena and child stack ---- */

static void *arena_alloc(dn_json_doc *doc, size_t bytes)
{
    const size_t align = alignof(max_align_t);
    if (bytes > SIZE_MAX / 2)
        return NULL;
    bytes = (bytes + align - 1) & ~(align - 1);
    struct dn_json_block *block = doc->blocks;
    if (!block || block->capacity - block->used < bytes) {
        size_t capacity = bytes > DN_JSON_BLOCK_BYTES ? bytes : DN_JSON_BLOCK_BYTES;
        block = malloc(sizeof *block + capacity);
        if (!block)
            return NULL;
        block->used = 0;
        block->capacity = capacity;
        if (bytes > DN_JSON_BLOCK_BYTES && doc->blocks) {
            /* a big one-off: keep filling the current block afterwards */
            block->next = doc->blocks->next;
            doc->blocks->next = block;
        } else {
            block->next = doc->blocks;
            doc->blocks = block;
        }
    }
    void *ptr = block->bytes + block->used;
    block->used += bytes;
    return ptr;
}

void dn_json_free(dn_json_doc *doc)
{
    if (!doc)
        return;
    struct dn_json_block *block = doc->blocks;
    while (block) {
        struct dn_json_block *next = block->next;
        free(block);
        block = next;
    }
    memset(doc, 0, sizeof *doc);
}

static dn_status push_child(parser *p, dn_json_member **slot)
{
    if (p->stack_count == p->stack_capacity) {
        size_t capacity = p->stack_capacity ? p->stack_capacity * 2 : 32;
        size_t bytes;
        if (!dn_mul_size(capacity, sizeof *p->stack, &bytes))
            return dn_fail(DN_ERR_NOMEM, "JSON nesting stack overflows");
        dn_json_member *grown = realloc(p->stack, bytes);
        if (!grown)
            return dn_fail(DN_ERR_NOMEM, "out of memory parsing JSON");
        p->stack = grown;
        p->stack_capacity = capacity;
    }
    *slot = &p->stack[p->stack_count++];
    memset(*slot, 0, sizeof **slot);
    return DN_OK;
}

/* ---- errors ---- */

static dn_status parse_error(const parser *p, size_t at, const char *what)
{
    size_t line = 1, column = 1;
    for (size_t i = 0; i < at && i < p->length; i++) {
        if (p->text[i] == '\n') {
            line++;
            column = 1;
        } else
            column++;
    }
    return dn_fail(DN_ERR_FORMAT, "byte %zu (line %zu, column %zu): %s", at, line, column, what);
}

static dn_status nomem(void) { return dn_fail(DN_ERR_NOMEM, "out of memory parsing JSON"); }

/* ---- the grammar ---- */

static void skip_space(parser *p)
{
    while (p->pos < p->length) {
        unsigned char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the four hex digits of a \u escape at text[at..end). */
static bool read_hex4(const parser *p, size_t at, size_t end, uint32_t *out)
{
    if (end - at < 4)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        int h = hex_value(p->text[at + i]);
        if (h < 0)
            return false;
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return true;
}

/* p->pos is at the opening quote. Escapes never lengthen a string, so the
 * raw span bounds the decoded size. */
static dn_status parse_string(parser *p, const char **out, size_t *out_length)
{
    size_t start = ++p->pos, end = start;
    while (end < p->length && p->text[end] != '"')
        end += p->text[end] == '\\' ? 2 : 1;
    if (end >= p->length)
        return parse_error(p, start - 1, "unterminated string");
    char *dst = arena_alloc(p->doc, end - start + 1);
    if (!dst)
        return nomem();
    size_t n = 0, i = start;
    while (i < end) {
        unsigned char c = p->text[i];
        if (c < 0x20)
            return parse_error(p, i, "control character in a string (must be escaped)");
        if (c >= 0x80) {
            uint32_t code;
            size_t len = utf8_decode(p->text + i, end - i, &code);
            if (len == 0)
                return parse_error(p, i, "invalid UTF-8 in a string");
            memcpy(dst + n, p->text + i, len);
            n += len;
            i += len;
            continue;
        }
        if (c != '\\') {
            dst[n++] = (char)c;
            i++;
            continue;
        }
        unsigned char e = p->text[i + 1];
        size_t escape_at = i;
        i += 2;
        switch (e) {
        case '"': dst[n++] = '"'; break;
        case '\\': dst[n++] = '\\'; break;
        case '/': dst[n++] = '/'; break;
        case 'b': dst[n++] = '\b'; break;
        case 'f': dst[n++] = '\f'; break;
        case 'n': dst[n++] = '\n'; break;
        case 'r': dst[n++] = '\r'; break;
        case 't': dst[n++] = '\t'; break;
        case 'u': {
            uint32_t code, low;
            if (!read_hex4(p, i, end, &code))
                return parse_error(p, escape_at, "\\u must be followed by four hex digits");
            i += 4;
            if (code >= 0xDC00 && code <= 0xDFFF)
                return parse_error(p, escape_at, "lone low surrogate in a \\u escape");
            if (code >= 0xD800 && code <= 0xDBFF) {
                if (end - i < 6 || p->text[i] != '\\' || p->text[i + 1] != 'u' ||
                    !read_hex4(p, i + 2, end, &low) || low < 0xDC00 || low > 0xDFFF)
                    return parse_error(p, escape_at, "high surrogate not followed by a low surrogate");
                i += 6;
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            }
            n += utf8_encode(code, dst + n);
            break;
        }
        default: return parse_error(p, escape_at, "unknown escape sequence in a string");
        }
    }
    dst[n] = '\0';
    *out = dst;
    *out_length = n;
    p->pos = end + 1;
    return DN_OK;
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static dn_status parse_number(parser *p, dn_json *out)
{
    size_t start = p->pos, i = start;
    const unsigned char *t = p->text;
    bool negative = false, integer = true;
    if (t[i] == '-') {
        negative = true;
        i++;
    }
    if (i >= p->length || !is_digit(t[i]))
        return parse_error(p, start, "'-' must be followed by a digit");
    if (t[i] == '0') {
        i++;
        if (i < p->length && is_digit(t[i]))
            return parse_error(p, start, "numbers must not have leading zeros");
    } else
        while (i < p->length && is_digit(t[i]))
            i++;
    size_t digits_end = i;
    if (i < p->length && t[i] == '.') {
        integer = false;
        i++;
        if (i >= p->length || !is_digit(t[i]))
            return parse_error(p, start, "a decimal point must be followed by a digit");
        while (i < p->length && is_digit(t[i]))
            i++;
    }
    if (i < p->length && (t[i] == 'e' || t[i] == 'E')) {
        integer = false;
        i++;
        if (i < p->length && (t[i] == '+' || t[i] == '-'))
            i++;
        if (i >= p->length || !is_digit(t[i]))
            return parse_error(p, start, "an exponent must have digits");
        while (i < p->length && is_digit(t[i]))
            i++;
    }
    p->pos = i;
    out->type = DN_JSON_NUMBER;
    out->negative = negative;
    if (integer) {
        uint64_t m = 0;
        for (size_t k = start + negative; k < digits_end && integer; k++) {
            uint64_t digit = (uint64_t)(t[k] - '0');
            if (m > (UINT64_MAX - digit) / 10)
                integer = false;
            else
                m = m * 10 + digit;
        }
        if (integer) {
            out->integer = true;
            out->magnitude = m;
            out->number = negative ? -(double)m : (double)m;
            return DN_OK;
        }
    }
    /* in the "C" locale, so a program's setlocale() cannot change what '.' means */
    size_t span = i - start;
    char small[64];
    char *copy = span < sizeof small ? small : malloc(span + 1);
    if (!copy)
        return nomem();
    memcpy(copy, t + start, span);
    copy[span] = '\0';
    out->number = dn_strtod(copy, NULL);
    if (copy != small)
        free(copy);
    if (isinf(out->number))
        return parse_error(p, start, "number out of the range of a double");
    return DN_OK;
}

static bool match_literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->length - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static int compare_members(const void *a, const void *b)
{
    const dn_json_member *x = *(const dn_json_member *const *)a;
    const dn_json_member *y = *(const dn_json_member *const *)b;
    size_t n = x->key_length < y->key_length ? x->key_length : y->key_length;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    return (x->key_length > y->key_length) - (x->key_length < y->key_length);
}

static dn_status check_unique_keys(parser *p, const dn_json_member *members, size_t count,
                                   size_t object_at)
{
    if (count < 2)
        return DN_OK;
    const dn_json_member **order = malloc(count * sizeof *order);
    if (!order)
        return nomem();
    for (size_t i = 0; i < count; i++)
        order[i] = &members[i];
    qsort(order, count, sizeof *order, compare_members);
    dn_status status = DN_OK;
    for (size_t i = 1; i < count && status == DN_OK; i++) {
        if (compare_members(&order[i - 1], &order[i]) == 0) {
            char message[160], quoted[100];
            size_t need = dn_json_escape(quoted, sizeof quoted, order[i]->key);
            snprintf(message, sizeof message, "duplicate key %s%s in the object", quoted,
                     need >= sizeof quoted ? "..." : "");
            status = parse_error(p, object_at, message);
        }
    }
    free(order);
    return status;
}

static dn_status parse_value(parser *p, dn_json *out, int depth);

/* Moves the last count stack entries into the arena as the container's
 * children. */
static dn_status close_container(parser *p, dn_json *out, size_t first, size_t object_at)
{
    size_t count = p->stack_count - first;
    out->length = count;
    if (out->type == DN_JSON_OBJECT) {
        dn_json_member *members = arena_alloc(p->doc, count * sizeof *members);
        if (!members)
            return nomem();
        if (count > 0)
            memcpy(members, p->stack + first, count * sizeof *members);
        out->members = members;
        p->stack_count = first;
        return check_unique_keys(p, members, count, object_at);
    }
    dn_json *items = arena_alloc(p->doc, count * sizeof *items);
    if (!items)
        return nomem();
    for (size_t i = 0; i < count; i++)
        items[i] = p->stack[first + i].value;
    out->items = items;
    p->stack_count = first;
    return DN_OK;
}

static dn_status parse_container(parser *p, dn_json *out, int depth)
{
    size_t open_at = p->pos;
    bool object = p->text[p->pos] == '{';
    char close = object ? '}' : ']';
    if (depth >= DN_JSON_MAX_DEPTH)
        return parse_error(p, open_at, "nesting is too deep");
    out->type = object ? DN_JSON_OBJECT : DN_JSON_ARRAY;
    p->pos++;
    size_t first = p->stack_count;
    skip_space(p);
    if (p->pos < p->length && p->text[p->pos] == close) {
        p->pos++;
        return close_container(p, out, first, open_at);
    }
    for (;;) {
        skip_space(p);
        dn_json_member *slot;
        dn_status status = push_child(p, &slot);
        if (status != DN_OK)
            return status;
        size_t index = p->stack_count - 1;
        if (object) {
            if (p->pos >= p->length || p->text[p->pos] != '"')
                return parse_error(p, p->pos, "expected a string key in an object");
            const char *key;
            size_t key_length;
            status = parse_string(p, &key, &key_length);
            if (status != DN_OK)
                return status;
            skip_space(p);
            if (p->pos >= p->length || p->text[p->pos] != ':')
                return parse_error(p, p->pos, "expected ':' after an object key");
            p->pos++;
            p->stack[index].key = key;
            p->stack[index].key_length = key_length;
        }
        dn_json value;
        status = parse_value(p, &value, depth + 1);
        if (status != DN_OK)
            return status;
        p->stack[index].value = value; /* the stack may have moved */
        skip_space(p);
        if (p->pos >= p->length)
            return parse_error(p, open_at, object ? "unterminated object" : "unterminated array");
        unsigned char c = p->text[p->pos++];
        if (c == close)
            return close_container(p, out, first, open_at);
        if (c != ',')
            return parse_error(p, p->pos - 1,
                               object ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
    }
}

static dn_status parse_value(parser *p, dn_json *out, int depth)
{
    memset(out, 0, sizeof *out);
    skip_space(p);
    if (p->pos >= p->length)
        return parse_error(p, p->pos, "expected a value, found the end of the input");
    unsigned char c = p->text[p->pos];
    if (c == '{' || c == '[')
        return parse_container(p, out, depth);
    if (c == '"') {
        out->type = DN_JSON_STRING;
        return parse_string(p, &out->string, &out->length);
    }
    if (c == '-' || is_digit(c))
        return parse_number(p, out);
    if (match_literal(p, "true")) {
        out->type = DN_JSON_TRUE;
        return DN_OK;
    }
    if (match_literal(p, "false")) {
        out->type = DN_JSON_FALSE;
        return DN_OK;
    }
    if (match_literal(p, "null")) {
        out->type = DN_JSON_NULL;
        return DN_OK;
    }
    return parse_error(p, p->pos, "expected a value");
}

dn_status dn_json_parse(dn_json_doc *doc, const char *text, size_t length)
{
    if (!doc)
        return dn_fail(DN_ERR_ARG, "dn_json_parse: doc is NULL");
    memset(doc, 0, sizeof *doc);
    if (!text && length)
        return dn_fail(DN_ERR_ARG, "dn_json_parse: text is NULL");
    parser p = {.text = (const unsigned char *)text, .length = length, .doc = doc};
    dn_status status = parse_value(&p, &doc->root, 0);
    if (status == DN_OK) {
        skip_space(&p);
        if (p.pos != p.length)
            status = parse_error(&p, p.pos, "unexpected data after the JSON value");
    }
    free(p.stack);
    if (status != DN_OK)
        dn_json_free(doc);
    return status;
}

/* ---- queries ---- */

const dn_json *dn_json_get(const dn_json *object, const char *key)
{
    if (!object || object->type != DN_JSON_OBJECT || !key)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < object->length; i++) {
        const dn_json_member *m = &object->members[i];
        if (m->key_length == n && memcmp(m->key, key, n) == 0)
            return &m->value;
    }
    return NULL;
}

bool dn_json_get_u64(const dn_json *value, uint64_t *out)
{
    if (!value || value->type != DN_JSON_NUMBER || !value->integer)
        return false;
    if (value->negative && value->magnitude != 0)
        return false;
    *out = value->magnitude;
    return true;
}

const char *dn_json_type_name(dn_json_type type)
{
    switch (type) {
    case DN_JSON_NULL: return "null";
    case DN_JSON_FALSE:
    case DN_JSON_TRUE: return "a boolean";
    case DN_JSON_NUMBER: return "a number";
    case DN_JSON_STRING: return "a string";
    case DN_JSON_ARRAY: return "an array";
    case DN_JSON_OBJECT: return "an object";
    }
    return "an unknown value";
}

/* ---- writing ---- */

/* The escaped form of one unit of src: a byte, an escape or a whole UTF-8
 * sequence. Returns how many src bytes it consumed. */
static size_t escape_unit(const unsigned char *s, size_t left, char piece[8], size_t *piece_length)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];
    const char *simple = NULL;
    switch (c) {
    case '"': simple = "\\\""; break;
    case '\\': simple = "\\\\"; break;
    case '\b': simple = "\\b"; break;
    case '\f': simple = "\\f"; break;
    case '\n': simple = "\\n"; break;
    case '\r': simple = "\\r"; break;
    case '\t': simple = "\\t"; break;
    default: break;
    }
    if (simple) {
        *piece_length = strlen(simple);
        memcpy(piece, simple, *piece_length);
        return 1;
    }
    if (c < 0x20 || c == 0x7F) {
        memcpy(piece, "\\u00", 4);
        piece[4] = hex[c >> 4];
        piece[5] = hex[c & 15];
        *piece_length = 6;
        return 1;
    }
    if (c < 0x80) {
        piece[0] = (char)c;
        *piece_length = 1;
        return 1;
    }
    uint32_t code;
    size_t n = utf8_decode(s, left, &code);
    if (n == 0) {
        memcpy(piece, "\\ufffd", 6);
        *piece_length = 6;
        return 1;
    }
    memcpy(piece, s, n);
    *piece_length = n;
    return n;
}

size_t dn_json_escape(char *dst, size_t capacity, const char *src)
{
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    size_t left = strlen((const char *)s), total = 0;
    char piece[8];
    size_t piece_length;
    if (capacity > 0)
        dst[0] = '"';
    total = 1;
    while (left > 0) {
        size_t used = escape_unit(s, left, piece, &piece_length);
        s += used;
        left -= used;
        for (size_t k = 0; k < piece_length; k++, total++)
            if (total + 1 < capacity)
                dst[total] = piece[k];
    }
    if (total + 1 < capacity)
        dst[total] = '"';
    total++;
    if (capacity > 0)
        dst[total < capacity ? total : capacity - 1] = '\0';
    return total;
}

dn_status dn_json_write_string(FILE *f, const char *src)
{
    if (!f || !src)
        return dn_fail(DN_ERR_ARG, "dn_json_write_string: %s is NULL", f ? "src" : "f");
    const unsigned char *s = (const unsigned char *)src;
    size_t left = strlen(src);
    char piece[8];
    size_t piece_length;
    if (fputc('"', f) == EOF)
        return dn_fail(DN_ERR_IO, "writing a JSON string failed");
    while (left > 0) {
        size_t used = escape_unit(s, left, piece, &piece_length);
        s += used;
        left -= used;
        if (fwrite(piece, 1, piece_length, f) != piece_length)
            return dn_fail(DN_ERR_IO, "writing a JSON string failed");
    }
    if (fputc('"', f) == EOF)
        return dn_fail(DN_ERR_IO, "writing a JSON string failed");
    return DN_OK;
}

dn_status dn_json_format_number(char *dst, size_t capacity, double value, int decimals)
{
    if (!dst || capacity == 0)
        return dn_fail(DN_ERR_ARG, "dn_json_format_number: no room to write into");
    dst[0] = '\0';
    if (decimals < 0 || decimals > 17)
        return dn_fail(DN_ERR_ARG, "dn_json_format_number: %d decimals (0 to 17)", decimals);
    if (!isfinite(value))
        return dn_fail(DN_ERR_ARG, "%s is not a number JSON can hold", isnan(value) ? "NaN" : "infinity");
    int n = dn_snprintf(dst, capacity, "%.*f", decimals, value);
    if (n < 0 || (size_t)n >= capacity) {
        dst[0] = '\0';
        return dn_fail(DN_ERR_ARG, "dn_json_format_number: %d bytes do not fit in %zu", n, capacity);
    }
    return DN_OK;
}
