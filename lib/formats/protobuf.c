/* protobuf.c - Protocol Buffers' wire format, written: keys (field << 3 |
 * wire type) and values as varints, fixed 32-bit floats and
 * length-delimited bytes; nested messages get their length by moving their
 * body once it is written (protobuf.h). */
#include <string.h>

#include "internal.h"
#include "protobuf.h"

enum { WIRE_VARINT = 0, WIRE_LEN = 2, WIRE_I32 = 5 };

size_t dn_pb_varint(uint8_t out[10], uint64_t value)
{
    size_t n = 0;
    while (value >= 0x80) {
        out[n++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    out[n++] = (uint8_t)value;
    return n;
}

/* Room for `more` bytes after pb->len; false (and the sticky status) when
 * that would pass the 2 GiB limit or memory runs out. */
static bool reserve(dn_pb *pb, size_t more)
{
    if (pb->status != DN_OK)
        return false;
    if (more > DN_PB_MAX_BYTES - pb->len) {
        pb->status = dn_fail(DN_ERR_LIMIT, "protobuf: a message would be larger than %zu bytes",
                             DN_PB_MAX_BYTES);
        return false;
    }
    size_t need = pb->len + more;
    if (need <= pb->capacity)
        return true;
    size_t capacity = pb->capacity ? pb->capacity : 256;
    while (capacity < need)
        capacity = capacity > DN_PB_MAX_BYTES / 2 ? DN_PB_MAX_BYTES : capacity * 2;
    uint8_t *data = dn_alloc(capacity);
    if (!data) {
        pb->status = dn_fail(DN_ERR_NOMEM, "protobuf: cannot allocate %zu bytes", capacity);
        return false;
    }
    if (pb->len)
        memcpy(data, pb->data, pb->len);
    dn_free(pb->data);
    pb->data = data;
    pb->capacity = capacity;
    return true;
}

static void put_varint(dn_pb *pb, uint64_t value)
{
    uint8_t bytes[10];
    size_t n = dn_pb_varint(bytes, value);
    if (reserve(pb, n)) {
        memcpy(pb->data + pb->len, bytes, n);
        pb->len += n;
    }
}

static void put_key(dn_pb *pb, int field, int wire)
{
    put_varint(pb, (uint64_t)field << 3 | (uint64_t)wire);
}

void dn_pb_int(dn_pb *pb, int field, int64_t value)
{
    put_key(pb, field, WIRE_VARINT);
    put_varint(pb, (uint64_t)value);
}

void dn_pb_float(dn_pb *pb, int field, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    put_key(pb, field, WIRE_I32);
    if (!reserve(pb, 4))
        return;
    for (int i = 0; i < 4; i++)
        pb->data[pb->len++] = (uint8_t)(bits >> (8 * i));
}

uint8_t *dn_pb_bytes_space(dn_pb *pb, int field, size_t len)
{
    put_key(pb, field, WIRE_LEN);
    put_varint(pb, len);
    if (!reserve(pb, len))
        return NULL;
    uint8_t *space = pb->data + pb->len;
    pb->len += len;
    return space;
}

void dn_pb_bytes(dn_pb *pb, int field, const void *bytes, size_t len)
{
    uint8_t *space = dn_pb_bytes_space(pb, field, len);
    if (space && len)
        memcpy(space, bytes, len);
}

void dn_pb_string(dn_pb *pb, int field, const char *text)
{
    dn_pb_bytes(pb, field, text, strlen(text));
}

size_t dn_pb_begin(dn_pb *pb, int field)
{
    put_key(pb, field, WIRE_LEN);
    return pb->len;
}

/* The body written since mark moves up by the length of its length. */
void dn_pb_end(dn_pb *pb, size_t mark)
{
    if (pb->status != DN_OK)
        return;
    size_t body = pb->len - mark;
    uint8_t prefix[10];
    size_t n = dn_pb_varint(prefix, body);
    if (!reserve(pb, n))
        return;
    memmove(pb->data + mark + n, pb->data + mark, body);
    memcpy(pb->data + mark, prefix, n);
    pb->len += n;
}

void dn_pb_append(dn_pb *pb, const void *bytes, size_t len)
{
    if (len && reserve(pb, len)) {
        memcpy(pb->data + pb->len, bytes, len);
        pb->len += len;
    }
}

void dn_pb_free(dn_pb *pb)
{
    dn_free(pb->data);
    *pb = (dn_pb){0};
}
