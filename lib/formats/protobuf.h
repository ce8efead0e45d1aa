/* protobuf.h - a small writer of Protocol Buffers' wire format, enough for
 * ONNX files (onnx.c): varints, 32-bit floats and length-delimited fields
 * (bytes, strings, nested messages), written by field number with no schema
 * and no reading. Internal, never installed.
 *
 * Errors are sticky: the first failure (out of memory, or a message over
 * protobuf's 2 GiB limit) is kept in pb->status with its message recorded,
 * and every later call does nothing, so a message is written as a run of
 * calls and checked once at the end. */
#ifndef DN_PROTOBUF_H
#define DN_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

#include "digitnet/status.h"

/* Protobuf messages are limited to 2 GiB - 1 (readers use signed 32-bit sizes). */
#define DN_PB_MAX_BYTES ((size_t)INT32_MAX)

typedef struct dn_pb {
    uint8_t *data;   /* dn_alloc'd; NULL while empty */
    size_t len, capacity;
    dn_status status;
} dn_pb;

/* A varint field (wire type 0): int32, int64 (negative values take 10
 * bytes, as protobuf writes them), enums. */
void dn_pb_int(dn_pb *pb, int field, int64_t value);

/* A float field (wire type 5): 4 bytes, little-endian. */
void dn_pb_float(dn_pb *pb, int field, float value);

/* A length-delimited field (wire type 2) holding len bytes, or a string
 * without its NUL. */
void dn_pb_bytes(dn_pb *pb, int field, const void *bytes, size_t len);
void dn_pb_string(dn_pb *pb, int field, const char *text);

/* A length-delimited field of len bytes that the caller fills in: returns
 * where they go (valid until the next call on pb), or NULL after a failure. */
uint8_t *dn_pb_bytes_space(dn_pb *pb, int field, size_t len);

/* A nested message: dn_pb_begin writes the field's key and returns a mark;
 * the fields written until dn_pb_end(pb, mark) are the message's. */
size_t dn_pb_begin(dn_pb *pb, int field);
void dn_pb_end(dn_pb *pb, size_t mark);

/* Appends bytes that are already encoded fields (another dn_pb's data). */
void dn_pb_append(dn_pb *pb, const void *bytes, size_t len);

/* Releases pb's buffer and makes it empty again (status DN_OK). */
void dn_pb_free(dn_pb *pb);

/* The encoding of value as a varint in out[0..10); returns its length. */
size_t dn_pb_varint(uint8_t out[10], uint64_t value);

#endif
