/* idx.c - reading IDX files (the MNIST format), raw or gzip-compressed,
 * checking the header, the dimensions and the exact data length. */
#include <limits.h>
#include <string.h>

#include "digitnet/gzip.h"
#include "digitnet/idx.h"
#include "fileio.h"
#include "internal.h"

size_t dn_idx_type_size(int type)
{
    switch (type) {
    case DN_IDX_U8:
    case DN_IDX_I8: return 1;
    case DN_IDX_I16: return 2;
    case DN_IDX_I32:
    case DN_IDX_F32: return 4;
    case DN_IDX_F64: return 8;
    }
    return 0;
}

static uint64_t load_be(const uint8_t *p, size_t size)
{
    uint64_t value = 0;
    for (size_t i = 0; i < size; i++)
        value = value << 8 | p[i];
    return value;
}

/* Copies count big-endian elements of size bytes into host order. */
static void to_host_order(uint8_t *dst, const uint8_t *src, size_t count, size_t size)
{
    if (size == 1) {
        memcpy(dst, src, count);
        return;
    }
    for (size_t i = 0; i < count; i++, src += size, dst += size) {
        uint64_t value = load_be(src, size);
        if (size == 2) {
            uint16_t v = (uint16_t)value;
            memcpy(dst, &v, 2);
        } else if (size == 4) {
            uint32_t v = (uint32_t)value;
            memcpy(dst, &v, 4);
        } else {
            memcpy(dst, &value, 8);
        }
    }
}

dn_status dn_idx_parse(dn_idx *idx, const uint8_t *bytes, size_t len, const char *name)
{
    if (!idx || (!bytes && len))
        return dn_fail(DN_ERR_ARG, "dn_idx_parse: NULL argument");
    memset(idx, 0, sizeof *idx);
    if (!name)
        name = "(memory)";
    if (len < 4)
        return dn_fail(DN_ERR_FORMAT, "%s: too short for an IDX header (%zu bytes, need at least 4)", name, len);
    if (bytes[0] != 0 || bytes[1] != 0)
        return dn_fail(DN_ERR_FORMAT, "%s: not an IDX file (starts with %02x %02x, expected 00 00)", name,
                       bytes[0], bytes[1]);
    size_t elem_size = dn_idx_type_size(bytes[2]);
    if (elem_size == 0)
        return dn_fail(DN_ERR_FORMAT, "%s: unknown IDX element type 0x%02x", name, bytes[2]);
    int ndim = bytes[3];
    if (ndim < 1 || ndim > DN_IDX_MAX_DIMS)
        return dn_fail(ndim == 0 ? DN_ERR_FORMAT : DN_ERR_UNSUPPORTED,
                       "%s: IDX file declares %d dimensions (digitnet reads 1 to %d)", name, ndim, DN_IDX_MAX_DIMS);
    size_t header = 4 + 4 * (size_t)ndim;
    if (len < header)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated IDX header (%zu bytes; %d dimensions need %zu)", name, len,
                       ndim, header);
    int dims[DN_IDX_MAX_DIMS];
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        uint64_t dim = load_be(bytes + 4 + 4 * d, 4);
        if (dim == 0)
            return dn_fail(DN_ERR_FORMAT, "%s: IDX dimension %d is 0", name, d);
        if (dim > INT_MAX)
            return dn_fail(DN_ERR_FORMAT, "%s: IDX dimension %d is %llu, more than digitnet accepts (%d)", name, d,
                           (unsigned long long)dim, INT_MAX);
        dims[d] = (int)dim;
        if (!dn_mul_size(count, (size_t)dim, &count))
            return dn_fail(DN_ERR_FORMAT, "%s: IDX dimensions overflow the address space", name);
    }
    size_t data_bytes;
    if (!dn_mul_size(count, elem_size, &data_bytes) || data_bytes > SIZE_MAX - header)
        return dn_fail(DN_ERR_FORMAT, "%s: IDX dimensions overflow the address space", name);
    if (len - header < data_bytes)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated IDX data: the dimensions need %zu bytes of data, the file has %zu",
                       name, data_bytes, len - header);
    if (len - header > data_bytes)
        return dn_fail(DN_ERR_FORMAT,
                       "%s: %zu bytes of trailing data after the IDX elements (the dimensions need %zu bytes, "
                       "the file has %zu)",
                       name, len - header - data_bytes, data_bytes, len - header);

    uint8_t *data = dn_alloc(data_bytes);
    if (!data)
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate %zu bytes for the IDX data", name, data_bytes);
    to_host_order(data, bytes + header, count, elem_size);
    idx->type = (dn_idx_type)bytes[2];
    idx->ndim = ndim;
    memcpy(idx->dims, dims, (size_t)ndim * sizeof *dims);
    idx->count = count;
    idx->elem_size = elem_size;
    idx->data = data;
    return DN_OK;
}

dn_status dn_idx_read(dn_idx *idx, const char *path)
{
    if (!path || !idx)
        return dn_fail(DN_ERR_ARG, "dn_idx_read: NULL argument");
    memset(idx, 0, sizeof *idx);
    uint8_t *bytes;
    size_t len;
    dn_status status =
        dn_read_file(path, DN_IDX_MAX_BYTES + 4 + 4 * DN_IDX_MAX_DIMS, "an IDX file", &bytes, &len);
    if (status != DN_OK)
        return status;
    if (dn_gzip_detect(bytes, len)) {
        uint8_t *raw;
        size_t raw_len;
        status = dn_gunzip(&raw, &raw_len, bytes, len, DN_IDX_MAX_BYTES);
        dn_free(bytes);
        if (status != DN_OK)
            return dn_fail_context(status, "%s", path);
        bytes = raw;
        len = raw_len;
    }
    status = dn_idx_parse(idx, bytes, len, path);
    dn_free(bytes);
    return status;
}

double dn_idx_get(const dn_idx *idx, size_t i)
{
    const uint8_t *p = idx->data + i * idx->elem_size;
    switch (idx->type) {
    case DN_IDX_U8: return p[0];
    case DN_IDX_I8: return (int8_t)p[0];
    case DN_IDX_I16: {
        int16_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case DN_IDX_I32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case DN_IDX_F32: {
        float v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case DN_IDX_F64: {
        double v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    }
    return 0;
}

void dn_idx_free(dn_idx *idx)
{
    if (!idx)
        return;
    dn_free(idx->data);
    memset(idx, 0, sizeof *idx);
}
