/* safetensors.c - validating reader (F32/F64/F16/BF16/I64/I32 to float32) and atomic
 * F32 writer for safetensors files, plus the in-memory builder. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/json.h"
#include "digitnet/safetensors.h"
#include "fileio.h"
#include "safetensors_file.h"
#include "internal.h"
#include "json_parse.h"

enum { DN_ST_NAME_SHOWN = 72, DN_ST_CHUNK_FLOATS = 4096 };

/* Integer tensors are read too, converted to float: PyTorch stores a
 * batchnorm's num_batches_tracked as I64. */
typedef enum st_dtype { ST_F32, ST_F64, ST_F16, ST_BF16, ST_I64, ST_I32 } st_dtype;

/* One tensor's bytes in the data section, for the coverage check. */
typedef struct st_span {
    uint64_t begin, end;
    int index;
} st_span;

/* ---- little-endian decoding and float conversions ---- */

static uint64_t load_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static float bits_to_float(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* IEEE binary16 -> binary32, exact for every value, subnormals included. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
    if (exponent == 0x1F)
        return bits_to_float(sign | 0x7F800000u | (mantissa << 13));
    if (exponent != 0)
        return bits_to_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
    float magnitude = (float)mantissa * 0x1p-24f; /* subnormal or zero: exact */
    return sign ? -magnitude : magnitude;
}

static void convert(float *out, const uint8_t *in, size_t count, st_dtype dtype)
{
    for (size_t i = 0; i < count; i++) {
        switch (dtype) {
        case ST_F32: out[i] = bits_to_float((uint32_t)load_le(in + 4 * i, 4)); break;
        case ST_BF16: out[i] = bits_to_float((uint32_t)load_le(in + 2 * i, 2) << 16); break;
        case ST_F16: out[i] = half_to_float((uint16_t)load_le(in + 2 * i, 2)); break;
        case ST_F64: {
            uint64_t bits = load_le(in + 8 * i, 8);
            double d;
            memcpy(&d, &bits, sizeof d);
            out[i] = (float)d;
            break;
        }
        case ST_I64: out[i] = (float)(int64_t)load_le(in + 8 * i, 8); break;
        case ST_I32: out[i] = (float)(int32_t)(uint32_t)load_le(in + 4 * i, 4); break;
        }
    }
}

/* ---- messages ---- */

/* name as a quoted JSON string for messages, cut with "..." if long. */
static const char *show(char buf[static DN_ST_NAME_SHOWN], const char *name)
{
    size_t need = dn_json_escape(buf, DN_ST_NAME_SHOWN, name);
    if (need >= DN_ST_NAME_SHOWN) {
        size_t k = DN_ST_NAME_SHOWN - 5;
        while (k > 1 && ((unsigned char)buf[k] & 0xC0) == 0x80)
            k--;
        memcpy(buf + k, "...\"", 5);
    }
    return buf;
}

static void format_shape(char *buf, size_t capacity, int ndim, const uint64_t *dims)
{
    size_t n = (size_t)snprintf(buf, capacity, "[");
    for (int i = 0; i < ndim && n < capacity; i++)
        n += (size_t)snprintf(buf + n, capacity - n, i ? ", %llu" : "%llu", (unsigned long long)dims[i]);
    if (n < capacity)
        snprintf(buf + n, capacity - n, "]");
}

/* ---- freeing ---- */

void dn_safetensors_free(dn_safetensors *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->count && st->tensors; i++) {
        free(st->tensors[i].name);
        dn_free(st->tensors[i].data);
    }
    for (int i = 0; i < st->meta_count && st->meta; i++) {
        free(st->meta[i].key);
        free(st->meta[i].value);
    }
    free(st->tensors);
    free(st->meta);
    memset(st, 0, sizeof *st);
}

/* ---- reading ---- */

static dn_status parse_metadata(dn_safetensors *st, const dn_json *object, const char *file)
{
    if (object->type != DN_JSON_OBJECT)
        return dn_fail(DN_ERR_FORMAT, "%s: \"__metadata__\" is %s, not an object of strings", file,
                       dn_json_type_name(object->type));
    if (object->length > INT_MAX)
        return dn_fail(DN_ERR_FORMAT, "%s: too many metadata entries", file);
    st->meta = calloc(object->length ? object->length : 1, sizeof *st->meta);
    if (!st->meta)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory for metadata", file);
    for (size_t i = 0; i < object->length; i++) {
        const dn_json_member *m = &object->members[i];
        char shown[DN_ST_NAME_SHOWN];
        if (m->value.type != DN_JSON_STRING)
            return dn_fail(DN_ERR_FORMAT, "%s: metadata %s is %s, not a string", file, show(shown, m->key),
                           dn_json_type_name(m->value.type));
        if (strlen(m->key) != m->key_length || strlen(m->value.string) != m->value.length)
            return dn_fail(DN_ERR_FORMAT, "%s: metadata %s holds a NUL character", file, show(shown, m->key));
        dn_st_meta *meta = &st->meta[st->meta_count];
        meta->key = strdup(m->key);
        meta->value = strdup(m->value.string);
        st->meta_count++;
        if (!meta->key || !meta->value)
            return dn_fail(DN_ERR_NOMEM, "%s: out of memory for metadata", file);
    }
    return DN_OK;
}

static dn_status parse_dtype(const dn_json *value, const char *file, const char *tensor, st_dtype *dtype,
                             size_t *element_bytes)
{
    if (!value)
        return dn_fail(DN_ERR_FORMAT, "%s: tensor %s has no \"dtype\"", file, tensor);
    if (value->type != DN_JSON_STRING)
        return dn_fail(DN_ERR_FORMAT, "%s: tensor %s: \"dtype\" is %s, not a string", file, tensor,
                       dn_json_type_name(value->type));
    static const struct {
        const char *name;
        st_dtype dtype;
        size_t bytes;
    } known[] = {{"F32", ST_F32, 4}, {"F64", ST_F64, 8}, {"F16", ST_F16, 2}, {"BF16", ST_BF16, 2},
                 {"I64", ST_I64, 8}, {"I32", ST_I32, 4}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(value->string, known[i].name) == 0 && strlen(known[i].name) == value->length) {
            *dtype = known[i].dtype;
            *element_bytes = known[i].bytes;
            return DN_OK;
        }
    }
    char shown[DN_ST_NAME_SHOWN];
    return dn_fail(DN_ERR_UNSUPPORTED, "%s: tensor %s has dtype %s; digitnet reads F32, F64, F16, BF16, I64 and I32", file,
                   tensor, show(shown, value->string));
}

/* Validates one header entry and fills *tensor (name and data excepted)
 * and *span. */
static dn_status parse_entry(const dn_json *entry, const char *file, const char *tensor, size_t data_length,
                             dn_st_tensor *out, st_span *span, st_dtype *dtype)
{
    if (entry->type != DN_JSON_OBJECT)
        return dn_fail(DN_ERR_FORMAT, "%s: tensor %s: entry is %s, not an object", file, tensor,
                       dn_json_type_name(entry->type));
    size_t element_bytes = 0;
    dn_status status = parse_dtype(dn_json_get(entry, "dtype"), file, tensor, dtype, &element_bytes);
    if (status != DN_OK)
        return status;

    const dn_json *shape = dn_json_get(entry, "shape");
    if (!shape)
        return dn_fail(DN_ERR_FORMAT, "%s: tensor %s has no \"shape\"", file, tensor);
    if (shape->type != DN_JSON_ARRAY)
        return dn_fail(DN_ERR_FORMAT, "%s: tensor %s: \"shape\" is %s, not an array", file, tensor,
                       dn_json_type_name(shape->type));
    if (shape->length > DN_ST_MAX_DIMS)
        return dn_fail(DN_ERR_UNSUPPORTED, "%s: tensor %s has %zu dimensions; digitnet handles at most %d",
                       file, tensor, shape->length, DN_ST_MAX_DIMS);
    uint64_t dims[DN_ST_MAX_DIMS] = {0};
    size_t count = 1;
    bool overflow = false;
    for (size_t d = 0; d < shape->length; d++) {
        if (!dn_json_get_u64(&shape->items[d], &dims[d]))
            return dn_fail(DN_ERR_FORMAT, "%s: tensor %s: shape[%zu] is not a non-negative integer", file,
                           tensor, d);
        if (dims[d] > INT_MAX)
            return dn_fail(DN_ERR_FORMAT, "%s: tensor %s: shape[%zu] = %llu is too large", file, tensor, d,
                           (unsigned long long)dims[d]);
        overflow |= !dn_mul_size(count, (size_t)dims[d], &count);
        out->shape[d] = (int)dims[d];
    }
    out->ndim = (int)shape->length;
    size_t bytes = 0;
    char shape_text[80];
    format_shape(shape_text, sizeof shape_text, out->ndim, dims);
    if (overflow || !dn_mul_size(count, element_bytes, &bytes))
        return dn_fail(DN_ERR_FORMAT, "%s: tensor %s: shape %s is too large", file, tensor, shape_text);
    out->size = count;

    const dn_json *offsets = dn_json_get(entry, "data_offsets");
    uint64_t begin, end;
    if (!offsets)
        return dn_fail(DN_ERR_FORMAT, "%s: tensor %s has no \"data_offsets\"", file, tensor);
    if (offsets->type != DN_JSON_ARRAY || offsets->length != 2 || !dn_json_get_u64(&offsets->items[0], &begin) ||
        !dn_json_get_u64(&offsets->items[1], &end))
        return dn_fail(DN_ERR_FORMAT, "%s: tensor %s: \"data_offsets\" is not an array of two non-negative integers",
                       file, tensor);
    if (begin > end)
        return dn_fail(DN_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] end before they begin", file,
                       tensor, (unsigned long long)begin, (unsigned long long)end);
    if (end > data_length)
        return dn_fail(DN_ERR_FORMAT,
                       "%s: tensor %s: data_offsets [%llu, %llu] run past the end of the %zu-byte data section",
                       file, tensor, (unsigned long long)begin, (unsigned long long)end, data_length);
    if (end - begin != bytes) {
        static const char *const names[] = {"F32", "F64", "F16", "BF16", "I64", "I32"};
        return dn_fail(DN_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] hold %llu bytes, but shape %s of %s "
                       "needs %zu", file, tensor, (unsigned long long)begin, (unsigned long long)end,
                       (unsigned long long)(end - begin), shape_text, names[*dtype], bytes);
    }
    span->begin = begin;
    span->end = end;
    return DN_OK;
}

static int compare_spans(const void *a, const void *b)
{
    const st_span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* The data section must be tiled exactly by the tensors. Sorts spans. */
static dn_status check_coverage(const dn_safetensors *st, st_span *spans, size_t data_length, const char *file)
{
    qsort(spans, (size_t)st->count, sizeof *spans, compare_spans);
    uint64_t covered = 0;
    char a[DN_ST_NAME_SHOWN], b[DN_ST_NAME_SHOWN];
    for (int i = 0; i < st->count; i++) {
        const st_span *s = &spans[i];
        if (s->begin < covered)
            return dn_fail(DN_ERR_FORMAT, "%s: tensors %s and %s overlap in the data section", file,
                           show(a, st->tensors[spans[i - 1].index].name), show(b, st->tensors[s->index].name));
        if (s->begin > covered)
            return dn_fail(DN_ERR_FORMAT, "%s: bytes [%llu, %llu) of the data section belong to no tensor (before %s)",
                           file, (unsigned long long)covered, (unsigned long long)s->begin,
                           show(a, st->tensors[s->index].name));
        covered = s->end;
    }
    if (covered != data_length)
        return dn_fail(DN_ERR_FORMAT, "%s: the last %llu bytes of the data section belong to no tensor", file,
                       (unsigned long long)(data_length - covered));
    return DN_OK;
}

static dn_status parse_header(dn_safetensors *st, const dn_json *root, const uint8_t *data, size_t data_length,
                              const char *file)
{
    if (root->type != DN_JSON_OBJECT)
        return dn_fail(DN_ERR_FORMAT, "%s: header is %s, not a JSON object", file, dn_json_type_name(root->type));
    size_t tensors = root->length - (dn_json_get(root, "__metadata__") ? 1 : 0);
    if (tensors > INT_MAX)
        return dn_fail(DN_ERR_FORMAT, "%s: too many tensors", file);
    st->tensors = calloc(tensors ? tensors : 1, sizeof *st->tensors);
    st_span *spans = calloc(tensors ? tensors : 1, sizeof *spans);
    st_dtype *dtypes = calloc(tensors ? tensors : 1, sizeof *dtypes);
    dn_status status = DN_OK;
    if (!st->tensors || !spans || !dtypes)
        status = dn_fail(DN_ERR_NOMEM, "%s: out of memory for %zu tensors", file, tensors);
    for (size_t i = 0; i < root->length && status == DN_OK; i++) {
        const dn_json_member *m = &root->members[i];
        if (strcmp(m->key, "__metadata__") == 0 && m->key_length == strlen("__metadata__")) {
            status = parse_metadata(st, &m->value, file);
            continue;
        }
        char shown[DN_ST_NAME_SHOWN];
        show(shown, m->key);
        if (strlen(m->key) != m->key_length) {
            status = dn_fail(DN_ERR_FORMAT, "%s: tensor name %s holds a NUL character", file, shown);
            break;
        }
        dn_st_tensor *t = &st->tensors[st->count];
        t->name = strdup(m->key);
        st->count++;
        if (!t->name) {
            status = dn_fail(DN_ERR_NOMEM, "%s: out of memory", file);
            break;
        }
        spans[st->count - 1].index = st->count - 1;
        status = parse_entry(&m->value, file, shown, data_length, t, &spans[st->count - 1], &dtypes[st->count - 1]);
    }
    if (status == DN_OK)
        status = check_coverage(st, spans, data_length, file);
    for (int i = 0; i < st->count && status == DN_OK; i++) {
        dn_st_tensor *t = &st->tensors[spans[i].index];
        t->data = dn_calloc(t->size ? t->size : 1, sizeof(float));
        if (!t->data) {
            status = dn_fail(DN_ERR_NOMEM, "%s: out of memory for tensor data", file);
            break;
        }
        convert(t->data, data + spans[i].begin, t->size, dtypes[spans[i].index]);
    }
    free(spans);
    free(dtypes);
    return status;
}

/* The first bytes of a file as text a message can show: up to 12 bytes,
 * anything unprintable as '.'. Returns a static per-thread buffer. */
static const char *printable_prefix(const uint8_t *bytes, size_t len)
{
    static _Thread_local char text[13];
    size_t n = len < 12 ? len : 12;
    for (size_t i = 0; i < n; i++)
        text[i] = bytes[i] >= 0x20 && bytes[i] < 0x7f && bytes[i] != '"' && bytes[i] != '\\' ? (char)bytes[i] : '.';
    text[n] = '\0';
    return text;
}

dn_status dn_safetensors_parse(dn_safetensors *st, const uint8_t *bytes, size_t len, const char *name_for_errors)
{
    const char *file = name_for_errors ? name_for_errors : "safetensors";
    if (!st)
        return dn_fail(DN_ERR_ARG, "dn_safetensors_parse: st is NULL");
    memset(st, 0, sizeof *st);
    if (!bytes && len)
        return dn_fail(DN_ERR_ARG, "dn_safetensors_parse: bytes is NULL");
    if (len < 8)
        return dn_fail(DN_ERR_FORMAT, "%s: %zu bytes is too short for a safetensors file (the header length alone "
                       "takes 8)", file, len);
    /* Name a file of another kind for what it is, before reading its first
     * bytes as a length: every safetensors header is JSON starting with '{'. */
    if (len > 8 && bytes[8] != '{')
        return dn_fail(DN_ERR_FORMAT, "%s: not a safetensors file (those start with an 8-byte header length and "
                       "then '{'; this one starts with \"%s\")", file, printable_prefix(bytes, len));
    uint64_t header_length = load_le(bytes, 8);
    if (header_length == 0)
        return dn_fail(DN_ERR_FORMAT, "%s: header length is 0", file);
    if (header_length > DN_ST_MAX_HEADER_BYTES)
        return dn_fail(DN_ERR_FORMAT, "%s: header length %llu is over the %u-byte limit", file,
                       (unsigned long long)header_length, DN_ST_MAX_HEADER_BYTES);
    if (header_length > len - 8)
        return dn_fail(DN_ERR_FORMAT, "%s: header length %llu runs past the end of the file (%zu bytes follow it)",
                       file, (unsigned long long)header_length, len - 8);
    const char *header = (const char *)bytes + 8;
    if (header[0] != '{')
        return dn_fail(DN_ERR_FORMAT, "%s: header does not start with '{'", file);
    dn_json_doc doc;
    dn_status status = dn_json_parse(&doc, header, (size_t)header_length);
    if (status != DN_OK)
        return dn_fail_context(status, "%s: header JSON", file);
    status = parse_header(st, &doc.root, bytes + 8 + header_length, len - 8 - (size_t)header_length, file);
    dn_json_free(&doc);
    if (status != DN_OK)
        dn_safetensors_free(st);
    return status;
}

dn_status dn_safetensors_read(dn_safetensors *st, const char *path)
{
    if (!st || !path)
        return dn_fail(DN_ERR_ARG, "dn_safetensors_read: %s is NULL", st ? "path" : "st");
    memset(st, 0, sizeof *st);
    uint8_t *bytes;
    size_t size;
    dn_status status = dn_read_file(path, SIZE_MAX, "a safetensors file", &bytes, &size);
    if (status != DN_OK)
        return status;
    status = dn_safetensors_parse(st, bytes, size, path);
    dn_free(bytes);
    return status;
}

/* ---- queries ---- */

const dn_st_tensor *dn_safetensors_find(const dn_safetensors *st, const char *name)
{
    if (!st || !name)
        return NULL;
    for (int i = 0; i < st->count; i++)
        if (strcmp(st->tensors[i].name, name) == 0)
            return &st->tensors[i];
    return NULL;
}

const char *dn_safetensors_meta(const dn_safetensors *st, const char *key)
{
    if (!st || !key)
        return NULL;
    for (int i = 0; i < st->meta_count; i++)
        if (strcmp(st->meta[i].key, key) == 0)
            return st->meta[i].value;
    return NULL;
}

/* ---- building ---- */

/* Element count of a shape of ndim (0..4) dims >= 0; false if invalid. */
static bool shape_count(int ndim, const int *shape, size_t *count)
{
    if (ndim < 0 || ndim > DN_ST_MAX_DIMS || (ndim > 0 && !shape))
        return false;
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0 || !dn_mul_size(n, (size_t)shape[d], &n))
            return false;
    size_t bytes;
    if (!dn_mul_size(n, sizeof(float), &bytes))
        return false;
    *count = n;
    return true;
}

dn_status dn_safetensors_add(dn_safetensors *st, const char *name, int ndim, const int *shape, const float *data)
{
    if (!st || !name)
        return dn_fail(DN_ERR_ARG, "dn_safetensors_add: %s is NULL", st ? "name" : "st");
    char shown[DN_ST_NAME_SHOWN];
    show(shown, name);
    size_t count;
    if (!shape_count(ndim, shape, &count))
        return dn_fail(DN_ERR_ARG, "dn_safetensors_add: tensor %s: invalid shape (ndim %d; 0..4 dims, each >= 0)",
                       shown, ndim);
    if (count > 0 && !data)
        return dn_fail(DN_ERR_ARG, "dn_safetensors_add: tensor %s: data is NULL", shown);
    if (!dn_utf8_valid(name, strlen(name)))
        return dn_fail(DN_ERR_ARG, "dn_safetensors_add: tensor name %s is not valid UTF-8", shown);
    if (strcmp(name, "__metadata__") == 0)
        return dn_fail(DN_ERR_ARG, "dn_safetensors_add: \"__metadata__\" is reserved");
    if (dn_safetensors_find(st, name))
        return dn_fail(DN_ERR_ARG, "dn_safetensors_add: tensor %s already exists", shown);
    if (st->count == INT_MAX)
        return dn_fail(DN_ERR_ARG, "dn_safetensors_add: too many tensors");
    dn_st_tensor *grown = realloc(st->tensors, ((size_t)st->count + 1) * sizeof *grown);
    if (!grown)
        return dn_fail(DN_ERR_NOMEM, "dn_safetensors_add: out of memory");
    st->tensors = grown;
    dn_st_tensor t = {.ndim = ndim, .size = count};
    for (int d = 0; d < ndim; d++)
        t.shape[d] = shape[d];
    t.name = strdup(name);
    t.data = dn_alloc(count * sizeof(float));
    if (!t.name || !t.data) {
        free(t.name);
        dn_free(t.data);
        return dn_fail(DN_ERR_NOMEM, "dn_safetensors_add: out of memory for tensor %s", shown);
    }
    if (count > 0)
        memcpy(t.data, data, count * sizeof(float));
    st->tensors[st->count++] = t;
    return DN_OK;
}

dn_status dn_safetensors_set_meta(dn_safetensors *st, const char *key, const char *value)
{
    if (!st || !key || !value)
        return dn_fail(DN_ERR_ARG, "dn_safetensors_set_meta: %s is NULL", !st ? "st" : !key ? "key" : "value");
    char shown[DN_ST_NAME_SHOWN];
    if (!dn_utf8_valid(key, strlen(key)) || !dn_utf8_valid(value, strlen(value)))
        return dn_fail(DN_ERR_ARG, "dn_safetensors_set_meta: metadata %s: key or value is not valid UTF-8",
                       show(shown, key));
    char *copy = strdup(value);
    if (!copy)
        return dn_fail(DN_ERR_NOMEM, "dn_safetensors_set_meta: out of memory");
    for (int i = 0; i < st->meta_count; i++) {
        if (strcmp(st->meta[i].key, key) == 0) {
            free(st->meta[i].value);
            st->meta[i].value = copy;
            return DN_OK;
        }
    }
    dn_st_meta *grown = st->meta_count < INT_MAX ? realloc(st->meta, ((size_t)st->meta_count + 1) * sizeof *grown)
                                                  : NULL;
    char *key_copy = grown ? strdup(key) : NULL;
    if (grown)
        st->meta = grown;
    if (!key_copy) {
        free(copy);
        return dn_fail(DN_ERR_NOMEM, "dn_safetensors_set_meta: out of memory");
    }
    st->meta[st->meta_count].key = key_copy;
    st->meta[st->meta_count].value = copy;
    st->meta_count++;
    return DN_OK;
}

/* ---- writing ---- */

/* A growable byte string; a failed append marks it failed and stops. */
typedef struct strbuf {
    char *bytes;
    size_t length, capacity;
    bool failed;
} strbuf;

static void sb_append(strbuf *sb, const char *s, size_t n)
{
    if (sb->failed)
        return;
    if (sb->capacity - sb->length <= n) {
        size_t capacity = sb->capacity ? sb->capacity : 256;
        while (capacity - sb->length <= n) {
            if (capacity > SIZE_MAX / 2) {
                sb->failed = true;
                return;
            }
            capacity *= 2;
        }
        char *grown = realloc(sb->bytes, capacity);
        if (!grown) {
            sb->failed = true;
            return;
        }
        sb->bytes = grown;
        sb->capacity = capacity;
    }
    memcpy(sb->bytes + sb->length, s, n);
    sb->length += n;
    sb->bytes[sb->length] = '\0';
}

static void sb_text(strbuf *sb, const char *s) { sb_append(sb, s, strlen(s)); }

static void sb_printf(strbuf *sb, const char *fmt, ...) DN_PRINTF(2, 3);
static void sb_printf(strbuf *sb, const char *fmt, ...)
{
    char small[128];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(small, sizeof small, fmt, args);
    va_end(args);
    if (n < 0 || (size_t)n >= sizeof small)
        sb->failed = true;
    else
        sb_append(sb, small, (size_t)n);
}

static void sb_string(strbuf *sb, const char *s)
{
    size_t need = dn_json_escape(NULL, 0, s);
    char *quoted = malloc(need + 1);
    if (!quoted) {
        sb->failed = true;
        return;
    }
    dn_json_escape(quoted, need + 1, s);
    sb_append(sb, quoted, need);
    free(quoted);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Checks st is something we can write, the way dn_safetensors_add would. */
static dn_status check_writable(const dn_safetensors *st, const char *path)
{
    if (st->count < 0 || st->meta_count < 0 || (st->count > 0 && !st->tensors) || (st->meta_count > 0 && !st->meta))
        return dn_fail(DN_ERR_ARG, "%s: inconsistent dn_safetensors (counts and arrays disagree)", path);
    char shown[DN_ST_NAME_SHOWN];
    for (int i = 0; i < st->count; i++) {
        const dn_st_tensor *t = &st->tensors[i];
        size_t count;
        if (!t->name || !dn_utf8_valid(t->name, strlen(t->name)) || strcmp(t->name, "__metadata__") == 0)
            return dn_fail(DN_ERR_ARG, "%s: tensor %d has a missing, reserved or non-UTF-8 name", path, i);
        if (!shape_count(t->ndim, t->shape, &count) || count != t->size || (count > 0 && !t->data))
            return dn_fail(DN_ERR_ARG, "%s: tensor %s: ndim, shape, size and data disagree", path,
                           show(shown, t->name));
    }
    for (int i = 0; i < st->meta_count; i++) {
        const dn_st_meta *m = &st->meta[i];
        if (!m->key || !m->value || !dn_utf8_valid(m->key, strlen(m->key)) ||
            !dn_utf8_valid(m->value, strlen(m->value)))
            return dn_fail(DN_ERR_ARG, "%s: metadata entry %d is missing or not valid UTF-8", path, i);
        for (int j = 0; j < i; j++)
            if (strcmp(st->meta[j].key, m->key) == 0)
                return dn_fail(DN_ERR_ARG, "%s: metadata key %s appears twice", path, show(shown, m->key));
    }
    if (st->count < 2)
        return DN_OK;
    const char **names = malloc((size_t)st->count * sizeof *names);
    if (!names)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < st->count; i++)
        names[i] = st->tensors[i].name;
    qsort(names, (size_t)st->count, sizeof *names, compare_names);
    dn_status status = DN_OK;
    for (int i = 1; i < st->count && status == DN_OK; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            status = dn_fail(DN_ERR_ARG, "%s: tensor name %s appears twice", path, show(shown, names[i]));
    free(names);
    return status;
}

/* The JSON header, padded with spaces so 8 + its length is a multiple of 8. */
static dn_status build_header(const dn_safetensors *st, strbuf *sb, const char *path)
{
    sb_text(sb, "{");
    if (st->meta_count > 0) {
        sb_text(sb, "\"__metadata__\":{");
        for (int i = 0; i < st->meta_count; i++) {
            if (i)
                sb_text(sb, ",");
            sb_string(sb, st->meta[i].key);
            sb_text(sb, ":");
            sb_string(sb, st->meta[i].value);
        }
        sb_text(sb, "}");
    }
    uint64_t offset = 0;
    for (int i = 0; i < st->count; i++) {
        const dn_st_tensor *t = &st->tensors[i];
        if (i || st->meta_count > 0)
            sb_text(sb, ",");
        sb_string(sb, t->name);
        sb_text(sb, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++)
            sb_printf(sb, d ? ",%d" : "%d", t->shape[d]);
        uint64_t end = offset + (uint64_t)t->size * sizeof(float);
        sb_printf(sb, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset, (unsigned long long)end);
        offset = end;
    }
    sb_text(sb, "}");
    while (!sb->failed && sb->length % 8 != 0)
        sb_text(sb, " ");
    if (sb->failed)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory building the header", path);
    if (sb->length > DN_ST_MAX_HEADER_BYTES)
        return dn_fail(DN_ERR_ARG, "%s: header would be %zu bytes, over the %u-byte limit", path, sb->length,
                       DN_ST_MAX_HEADER_BYTES);
    return DN_OK;
}

static void store_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static dn_status write_contents(dn_atomic_file *f, const dn_safetensors *st, const strbuf *header)
{
    uint8_t chunk[4 * DN_ST_CHUNK_FLOATS];
    for (int i = 0; i < 8; i++)
        chunk[i] = (uint8_t)((uint64_t)header->length >> (8 * i));
    dn_status status = dn_atomic_file_write(f, chunk, 8);
    if (status == DN_OK)
        status = dn_atomic_file_write(f, header->bytes, header->length);
    for (int i = 0; i < st->count && status == DN_OK; i++) {
        const dn_st_tensor *t = &st->tensors[i];
        for (size_t start = 0; start < t->size && status == DN_OK; start += DN_ST_CHUNK_FLOATS) {
            size_t n = t->size - start < DN_ST_CHUNK_FLOATS ? t->size - start : DN_ST_CHUNK_FLOATS;
            for (size_t k = 0; k < n; k++) {
                uint32_t bits;
                memcpy(&bits, &t->data[start + k], sizeof bits);
                store_le32(chunk + 4 * k, bits);
            }
            status = dn_atomic_file_write(f, chunk, 4 * n);
        }
    }
    return status;
}

dn_status dn_safetensors_write_unpublished(const dn_safetensors *st, const char *path, dn_atomic_file *f)
{
    if (!st || !path)
        return dn_fail(DN_ERR_ARG, "dn_safetensors_write: %s is NULL", st ? "path" : "st");
    dn_status status = check_writable(st, path);
    if (status != DN_OK)
        return status;
    strbuf header = {0};
    status = build_header(st, &header, path);
    if (status == DN_OK)
        status = dn_atomic_file_open(f, path);
    if (status == DN_OK) {
        status = write_contents(f, st, &header);
        if (status == DN_OK)
            status = dn_atomic_file_finish(f);
        else
            dn_atomic_file_abort(f);
    }
    free(header.bytes);
    return status;
}

dn_status dn_safetensors_write(const dn_safetensors *st, const char *path)
{
    dn_atomic_file f;
    dn_status status = dn_safetensors_write_unpublished(st, path, &f);
    return status == DN_OK ? dn_atomic_file_publish(&f) : status;
}
