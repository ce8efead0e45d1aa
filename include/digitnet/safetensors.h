/* digitnet/safetensors.h - reading and writing safetensors files.
 *
 * A safetensors file is an 8-byte little-endian header length N, N bytes of
 * UTF-8 JSON mapping each tensor name to {"dtype", "shape", "data_offsets":
 * [begin, end)} (offsets counted from the first byte after the header), an
 * optional "__metadata__" object of string -> string, then the raw
 * little-endian tensor bytes. This module is a generic container: a
 * dn_safetensors holds named float32 tensors of 0 to 4 dimensions plus the
 * metadata; which tensor is which network parameter is up to the caller.
 *
 * Reading (dn_safetensors_read / _parse) accepts dtypes F32, F64, F16, BF16,
 * I64 and I32 (PyTorch stores a batchnorm's num_batches_tracked as I64) and
 * converts every value to host float32 (F64 values outside the float range
 * become +-inf, integers beyond 2^24 are rounded); any other dtype is DN_ERR_UNSUPPORTED, as is a tensor
 * of more than 4 dimensions. Everything else is checked and refused with
 * DN_ERR_FORMAT and a message naming the file and the tensor: the header
 * length (at least 1 byte, at most 100 MB, inside the file), the JSON
 * (strict, see below), each entry's fields and their types, each dimension
 * (an integer in [0, INT_MAX]; zero-size tensors are fine), the element count
 * against data_offsets, and the layout of the data section, which must be
 * covered exactly: no overlapping tensors, no holes between them and no
 * unreferenced bytes at the end (the official format requires the byte
 * buffer to be entirely indexed). The JSON must be valid UTF-8 without
 * repeated keys (so a duplicated tensor name is refused), must start with
 * '{', and may be padded with trailing spaces. Keys of an entry other than
 * dtype, shape and data_offsets are ignored, as the reference implementation
 * does. Tensor names and metadata strings holding a NUL are refused.
 * Tensors keep the order of the header; metadata keep theirs.
 *
 * Writing stores every tensor as F32, in the order of the tensors array
 * (insertion order when built with dn_safetensors_add), data laid out in that
 * same order without gaps, "__metadata__" first when there is any, and the
 * header padded with spaces so the data starts at a multiple of 8 bytes. The
 * same object always gives the same bytes.
 *
 * Usage:
 *     dn_safetensors st = {0};
 *     dn_safetensors_add(&st, "fc.weight", 2, (int[]){10, 64}, weights);
 *     dn_safetensors_set_meta(&st, "arch", "mlp");
 *     dn_safetensors_write(&st, "model.safetensors");
 *     dn_safetensors_free(&st);
 *     ...
 *     dn_safetensors_read(&st, "model.safetensors");
 *     const dn_st_tensor *w = dn_safetensors_find(&st, "fc.weight");
 *     dn_safetensors_free(&st);
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: functions that only read a dn_safetensors (find, meta,
 * write) may run concurrently on one object; add, set_meta, read, parse and
 * free must not overlap with anything else on the same object. */
#ifndef DIGITNET_SAFETENSORS_H
#define DIGITNET_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "digitnet/export.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DN_ST_MAX_DIMS 4
#define DN_ST_MAX_HEADER_BYTES (100u << 20)

typedef struct dn_st_tensor {
    char *name;                 /* NUL-terminated UTF-8, owned by the file object */
    int ndim;                   /* 0 (a scalar) to 4 */
    int shape[DN_ST_MAX_DIMS];  /* shape[0..ndim); entries past ndim are 0 */
    float *data;                /* size floats, row-major; owned, 64-byte aligned, never NULL */
    size_t size;                /* product of shape[0..ndim): 1 for a scalar, 0 if a dim is 0 */
} dn_st_tensor;

typedef struct dn_st_meta {
    char *key;   /* owned, NUL-terminated UTF-8 */
    char *value; /* owned, NUL-terminated UTF-8 */
} dn_st_meta;

/* A set of named tensors plus string metadata. Zero-initialise it
 * (= {0}) before dn_safetensors_add / _set_meta; read and parse initialise it
 * themselves. Everything it points to belongs to it until dn_safetensors_free. */
typedef struct dn_safetensors {
    dn_st_tensor *tensors;
    int count;
    dn_st_meta *meta;
    int meta_count;
} dn_safetensors;

/* Reads and validates a whole file. *st need not be initialised: on success
 * it holds the file's tensors and metadata; on failure it is left empty
 * (safe to free) and the message names path. DN_ERR_IO when the file cannot
 * be opened or read, DN_ERR_FORMAT / DN_ERR_UNSUPPORTED as described above. */
DN_API dn_status dn_safetensors_read(dn_safetensors *st, const char *path);

/* The same from bytes[0..len) already in memory (not kept);
 * name_for_errors (may be NULL) stands for the file in messages. */
DN_API dn_status dn_safetensors_parse(dn_safetensors *st, const uint8_t *bytes, size_t len,
                               const char *name_for_errors);

/* The tensor called name, or NULL. Linear in the tensor count. The tensor
 * belongs to st: valid until dn_safetensors_free or the next
 * dn_safetensors_add. */
DN_API const dn_st_tensor *dn_safetensors_find(const dn_safetensors *st, const char *name);

/* The metadata value of key, or NULL. Linear in the metadata count. The
 * string belongs to st: valid until dn_safetensors_free or the next
 * dn_safetensors_set_meta. */
DN_API const char *dn_safetensors_meta(const dn_safetensors *st, const char *key);

/* Appends a copy of a tensor of ndim (0..4) dims of shape[0..ndim) (each
 * >= 0; shape may be NULL when ndim is 0) and data (product of the shape
 * floats; may be NULL only when that is 0). name is copied; it must be valid
 * UTF-8, not "__metadata__" and not already in st (DN_ERR_ARG otherwise);
 * DN_ERR_NOMEM leaves st's contents as they were. */
DN_API dn_status dn_safetensors_add(dn_safetensors *st, const char *name, int ndim, const int *shape,
                             const float *data);

/* Sets key to a copy of value, replacing an earlier value of the same key.
 * Both must be valid UTF-8 (DN_ERR_ARG otherwise). */
DN_API dn_status dn_safetensors_set_meta(dn_safetensors *st, const char *key, const char *value);

/* Writes st to path atomically: the bytes go to a new temporary file
 * path + ".tmp.XXXXXX" in the same directory, which is flushed to disk
 * (fsync), closed and renamed over path. On any failure the temporary file
 * is removed, path is left as it was, and DN_ERR_IO (or DN_ERR_ARG for an
 * inconsistent st: bad ndim or shape, NULL data, duplicate names, invalid
 * UTF-8) is returned. A new file gets mode 0644; replacing an existing file
 * keeps that file's mode. */
DN_API dn_status dn_safetensors_write(const dn_safetensors *st, const char *path);

/* Frees everything st owns and empties it; safe on an empty or freed st. */
DN_API void dn_safetensors_free(dn_safetensors *st);

#ifdef __cplusplus
}
#endif
#endif
