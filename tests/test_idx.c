/* test_idx.c - IDX parsing and datasets on tiny files written to a temporary
 * directory: every element type, raw and gzip, and each malformation. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digitnet/gzip.h"
#include "digitnet/idx.h"
#include "digitnet/status.h"
#include "internal.h"
#include "test_util.h"

static char temp_dir[] = "/tmp/dn_test_idx_XXXXXX";
static char path_buffer[512];

static const char *temp_path(const char *name)
{
    snprintf(path_buffer, sizeof path_buffer, "%s/%s", temp_dir, name);
    return path_buffer;
}

static const char *write_file(const char *name, const uint8_t *bytes, size_t len)
{
    const char *path = temp_path(name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot create %s", path);
    if (f) {
        CHECK(fwrite(bytes, 1, len, f) == len, "short write to %s", path);
        fclose(f);
    }
    return path;
}

/* Builds an IDX file: header, then data_len bytes of (already big-endian) data. */
static size_t build_idx(uint8_t *dst, int type, int ndim, const uint32_t *dims, const void *data, size_t data_len)
{
    dst[0] = 0;
    dst[1] = 0;
    dst[2] = (uint8_t)type;
    dst[3] = (uint8_t)ndim;
    for (int d = 0; d < ndim; d++) {
        for (int k = 0; k < 4; k++)
            dst[4 + 4 * d + k] = (uint8_t)(dims[d] >> (24 - 8 * k));
    }
    memcpy(dst + 4 + 4 * ndim, data, data_len);
    return 4 + 4 * (size_t)ndim + data_len;
}

/* Wraps raw bytes in a gzip member of stored DEFLATE blocks. */
static size_t build_gzip(uint8_t *dst, const uint8_t *raw, size_t len)
{
    const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    memcpy(dst, header, 10);
    size_t p = 10, done = 0;
    do {
        size_t n = len - done > 65535 ? 65535 : len - done;
        dst[p++] = done + n == len;
        dst[p++] = (uint8_t)n;
        dst[p++] = (uint8_t)(n >> 8);
        dst[p++] = (uint8_t)~n;
        dst[p++] = (uint8_t)(~n >> 8);
        memcpy(dst + p, raw + done, n);
        p += n;
        done += n;
    } while (done < len);
    uint32_t crc = dn_crc32(0, raw, len);
    for (int i = 0; i < 4; i++)
        dst[p++] = (uint8_t)(crc >> (8 * i));
    for (int i = 0; i < 4; i++)
        dst[p++] = (uint8_t)(len >> (8 * i));
    return p;
}

static bool error_says(const char *needle)
{
    bool found = strstr(dn_last_error(), needle) != NULL;
    CHECK(found, "message \"%s\" should mention \"%s\"", dn_last_error(), needle);
    return found;
}

static const uint8_t pixels[12] = {0, 255, 128, 1, 2, 3, 4, 5, 250, 251, 252, 253};

static void test_read_u8(void)
{
    uint8_t file[64], gz[128];
    size_t len = build_idx(file, DN_IDX_U8, 3, (uint32_t[]){3, 2, 2}, pixels, sizeof pixels);
    const char *raw_path = write_file("images.idx", file, len);
    dn_idx idx;
    CHECK_OK(dn_idx_read(&idx, raw_path));
    CHECK(idx.type == DN_IDX_U8 && idx.ndim == 3 && idx.dims[0] == 3 && idx.dims[1] == 2 && idx.dims[2] == 2,
          "type %d ndim %d dims %d %d %d", idx.type, idx.ndim, idx.dims[0], idx.dims[1], idx.dims[2]);
    CHECK(idx.count == 12 && idx.elem_size == 1, "count %zu size %zu", idx.count, idx.elem_size);
    CHECK(idx.data && memcmp(idx.data, pixels, 12) == 0, "raw data kept");
    CHECK(dn_idx_get(&idx, 1) == 255.0, "get");
    dn_idx_free(&idx);
    CHECK(idx.data == NULL && idx.count == 0, "free zeroes");
    dn_idx_free(&idx);

    /* gzip is recognised by content: this name has no .gz */
    size_t gz_len = build_gzip(gz, file, len);
    const char *gz_path = write_file("images-compressed.idx", gz, gz_len);
    CHECK_OK(dn_idx_read(&idx, gz_path));
    CHECK(idx.count == 12 && idx.dims[0] == 3 && memcmp(idx.data, pixels, 12) == 0, "gzip IDX read");
    dn_idx_free(&idx);

    gz[gz_len - 6] ^= 0x20; /* CRC */
    gz_path = write_file("images-corrupt.gz", gz, gz_len);
    CHECK(dn_idx_read(&idx, gz_path) == DN_ERR_FORMAT, "corrupt gzip refused");
    error_says("images-corrupt.gz");
    error_says("CRC-32 mismatch");
    CHECK(idx.data == NULL, "nothing kept after a failure");
}

static void test_types(void)
{
    const uint8_t i8[] = {0xff, 0x7f, 0x80};
    const uint8_t i16[] = {0x01, 0x02, 0xff, 0xfe};
    const uint8_t i32[] = {0x00, 0x01, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00};
    const uint8_t f32[] = {0x3f, 0xc0, 0x00, 0x00, 0xc2, 0x28, 0x00, 0x00};
    const uint8_t f64[] = {0xc0, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    struct {
        int type;
        const uint8_t *data;
        uint32_t count;
        size_t size;
        double expected[3];
    } cases[] = {
        {DN_IDX_I8, i8, 3, 1, {-1, 127, -128}},
        {DN_IDX_I16, i16, 2, 2, {258, -2}},
        {DN_IDX_I32, i32, 2, 4, {65536, -2147483648.0}},
        {DN_IDX_F32, f32, 2, 4, {1.5, -42}},
        {DN_IDX_F64, f64, 1, 8, {-2.25}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t file[64];
        size_t len = build_idx(file, cases[c].type, 1, &cases[c].count, cases[c].data, cases[c].count * cases[c].size);
        dn_idx idx;
        CHECK_OK(dn_idx_parse(&idx, file, len, "types"));
        CHECK((int)idx.type == cases[c].type && idx.elem_size == cases[c].size && idx.count == cases[c].count,
              "type 0x%02x header", cases[c].type);
        for (uint32_t i = 0; i < cases[c].count && idx.data; i++)
            CHECK(dn_idx_get(&idx, i) == cases[c].expected[i], "type 0x%02x element %u: %g, expected %g",
                  cases[c].type, i, dn_idx_get(&idx, i), cases[c].expected[i]);
        dn_idx_free(&idx);
    }
    CHECK(dn_idx_type_size(0x0A) == 0 && dn_idx_type_size(DN_IDX_F64) == 8, "type sizes");
}

static void expect_bad(const uint8_t *file, size_t len, dn_status expected, const char *needle, const char *what)
{
    const char *path = write_file("bad.idx", file, len);
    dn_idx idx;
    dn_status status = dn_idx_read(&idx, path);
    CHECK(status == expected, "%s: %s, expected %s (%s)", what, dn_status_name(status), dn_status_name(expected),
          dn_last_error());
    if (status != DN_OK) {
        error_says(needle);
        error_says("bad.idx");
    }
    CHECK(idx.data == NULL, "%s: no data kept", what);
    dn_idx_free(&idx);
}

static void test_malformed(void)
{
    uint8_t file[64];
    size_t len = build_idx(file, DN_IDX_U8, 3, (uint32_t[]){3, 2, 2}, pixels, sizeof pixels);

    expect_bad(file, 0, DN_ERR_FORMAT, "too short", "empty file");
    expect_bad(file, 3, DN_ERR_FORMAT, "too short", "3 bytes");
    for (size_t cut = 4; cut < 16; cut++)
        expect_bad(file, cut, DN_ERR_FORMAT, "truncated IDX header", "cut in the dimensions");
    for (size_t cut = 16; cut < len; cut++)
        expect_bad(file, cut, DN_ERR_FORMAT, "truncated IDX data", "cut in the data");
    file[len] = 0;
    expect_bad(file, len + 1, DN_ERR_FORMAT, "trailing", "one byte too many");

    file[0] = 1;
    expect_bad(file, len, DN_ERR_FORMAT, "not an IDX file", "wrong magic");
    file[0] = 0;
    file[2] = 0x0A;
    expect_bad(file, len, DN_ERR_FORMAT, "unknown IDX element type 0x0a", "type 0x0A");
    file[2] = 0x0C;
    expect_bad(file, len, DN_ERR_FORMAT, "truncated IDX data", "int data needs 4x the bytes");
    file[2] = DN_IDX_U8;

    uint8_t small[64];
    len = build_idx(small, DN_IDX_U8, 0, NULL, pixels, 4);
    expect_bad(small, len, DN_ERR_FORMAT, "0 dimensions", "ndim 0");
    len = build_idx(small, DN_IDX_U8, 5, (uint32_t[]){1, 1, 1, 1, 1}, pixels, 1);
    expect_bad(small, len, DN_ERR_UNSUPPORTED, "5 dimensions", "ndim 5");
    len = build_idx(small, DN_IDX_U8, 2, (uint32_t[]){2, 0}, pixels, 0);
    expect_bad(small, len, DN_ERR_FORMAT, "dimension 1 is 0", "zero dimension");
    len = build_idx(small, DN_IDX_U8, 1, (uint32_t[]){0x80000000u}, pixels, 4);
    expect_bad(small, len, DN_ERR_FORMAT, "dimension 0 is 2147483648", "dimension above INT_MAX");
    len = build_idx(small, DN_IDX_F64, 4, (uint32_t[]){0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff}, pixels, 4);
    expect_bad(small, len, DN_ERR_FORMAT, "overflow", "dimensions overflow");
    len = build_idx(small, DN_IDX_U8, 2, (uint32_t[]){0x10000, 0x10000}, pixels, 4);
    expect_bad(small, len, DN_ERR_FORMAT, "truncated IDX data", "4 GiB promised, 4 bytes present");

    dn_idx idx;
    CHECK(dn_idx_read(&idx, temp_path("no-such-file")) == DN_ERR_IO, "missing file is an I/O error");
    error_says("no-such-file");
    CHECK(dn_idx_read(&idx, temp_dir) == DN_ERR_IO, "a directory is refused");
    CHECK(dn_idx_parse(&idx, NULL, 4, "x") == DN_ERR_ARG, "NULL bytes refused");
}

static void write_set(const char *images_name, const char *labels_name, const uint8_t *labels, uint32_t nlabels)
{
    uint8_t file[64];
    size_t len = build_idx(file, DN_IDX_U8, 3, (uint32_t[]){3, 2, 2}, pixels, sizeof pixels);
    write_file(images_name, file, len);
    len = build_idx(file, DN_IDX_U8, 1, &nlabels, labels, nlabels);
    write_file(labels_name, file, len);
}

static bool dataset_zeroed(const dn_dataset *ds)
{
    return ds->images == NULL && ds->labels == NULL && ds->count == 0 && ds->num_classes == 0;
}

static void test_dataset(void)
{
    const uint8_t labels[3] = {0, 9, 4};
    write_set("set-images", "set-labels", labels, 3);
    char images_path[512];
    snprintf(images_path, sizeof images_path, "%s", temp_path("set-images"));
    dn_dataset ds;
    CHECK_OK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), 0.5f, 0.25f));
    CHECK(ds.count == 3 && ds.channels == 1 && ds.height == 2 && ds.width == 2 && ds.num_classes == 10,
          "shape %d %d %d %d classes %d", ds.count, ds.channels, ds.height, ds.width, ds.num_classes);
    float worst = 0;
    for (int i = 0; i < 12 && ds.images; i++) {
        float expected = (pixels[i] / 255.0f - 0.5f) / 0.25f;
        worst = fmaxf(worst, fabsf(ds.images[i] - expected));
    }
    CHECK(ds.images && worst < 1e-6f, "normalised pixels, worst error %g", worst);
    CHECK(ds.images && ds.images[0] == -2.0f && ds.images[1] == 2.0f, "0 -> -2, 255 -> 2");
    CHECK(ds.labels && memcmp(ds.labels, labels, 3) == 0, "labels");
    dn_dataset_free(&ds);
    CHECK(dataset_zeroed(&ds), "free zeroes");
    dn_dataset_free(&ds);

    CHECK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), 0, 0) == DN_ERR_ARG, "std 0 refused");
    CHECK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), NAN, 1) == DN_ERR_ARG, "NaN mean refused");
    CHECK(dn_dataset_load(&ds, images_path, NULL, 0, 1) == DN_ERR_ARG, "NULL labels path refused");

    write_set("set-images", "set-labels", labels, 2);
    CHECK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), 0, 1) == DN_ERR_FORMAT, "label count mismatch");
    error_says("2 labels for 3 images");
    error_says("set-labels");
    CHECK(dataset_zeroed(&ds), "zeroed after a failure");

    const uint8_t ten[3] = {0, 10, 4};
    write_set("set-images", "set-labels", ten, 3);
    CHECK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), 0, 1) == DN_ERR_FORMAT, "label 10 refused");
    error_says("label 10 of item 1 is outside 0..9");
    CHECK(dataset_zeroed(&ds), "zeroed after a failure");

    uint8_t file[64];
    size_t len = build_idx(file, DN_IDX_U8, 2, (uint32_t[]){3, 1}, labels, 3);
    write_file("set-labels", file, len);
    CHECK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), 0, 1) == DN_ERR_FORMAT, "2-D labels refused");
    error_says("1 dimension");
    const uint8_t float_labels[12] = {0};
    len = build_idx(file, DN_IDX_F32, 1, (uint32_t[]){3}, float_labels, 12);
    write_file("set-labels", file, len);
    CHECK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), 0, 1) == DN_ERR_FORMAT, "float labels refused");
    error_says("integers");
    len = build_idx(file, DN_IDX_I16, 1, (uint32_t[]){3}, (uint8_t[]){0, 1, 0, 2, 0, 9}, 6);
    write_file("set-labels", file, len);
    CHECK_OK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), 0, 1));
    CHECK(ds.labels && ds.labels[0] == 1 && ds.labels[2] == 9, "16-bit labels");
    CHECK(ds.images && ds.images[1] == 1.0f, "mean 0 std 1 keeps pixel/255");
    dn_dataset_free(&ds);

    len = build_idx(file, DN_IDX_U8, 1, (uint32_t[]){12}, pixels, 12);
    write_file("flat-images", file, len);
    snprintf(images_path, sizeof images_path, "%s", temp_path("flat-images"));
    CHECK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), 0, 1) == DN_ERR_FORMAT, "1-D images refused");
    error_says("3 dimensions");

    /* Float images are taken as they are, and must be finite. */
    const uint8_t nchw[24] = {0x3f, 0x80, 0, 0, 0x40, 0, 0, 0, 0xbf, 0x80, 0, 0, 0, 0, 0, 0, 0x40, 0x40, 0, 0, 0x41, 0x20, 0, 0};
    len = build_idx(file, DN_IDX_F32, 4, (uint32_t[]){3, 2, 1, 1}, nchw, 24);
    write_file("nchw-images", file, len);
    snprintf(images_path, sizeof images_path, "%s", temp_path("nchw-images"));
    CHECK_OK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), 1, 2));
    CHECK(ds.count == 3 && ds.channels == 2 && ds.height == 1 && ds.width == 1, "4-D images are NCHW");
    CHECK(ds.images && ds.images[0] == 0.0f && ds.images[1] == 0.5f && ds.images[2] == -1.0f &&
              ds.images[5] == 4.5f, "float pixels (x - 1) / 2");
    dn_dataset_free(&ds);
    uint8_t nan_file[64];
    memcpy(nan_file, file, len);
    nan_file[4 + 16 + 8] = 0x7f;
    nan_file[4 + 16 + 9] = 0xc0;
    write_file("nchw-images", nan_file, len);
    CHECK(dn_dataset_load(&ds, images_path, temp_path("set-labels"), 0, 1) == DN_ERR_FORMAT, "NaN pixel refused");
    error_says("not finite");
}

static void test_load_dir(void)
{
    const uint8_t labels[3] = {1, 2, 3};
    write_set("train-images-idx3-ubyte", "train-labels-idx1-ubyte", labels, 3);
    dn_dataset ds;
    CHECK(dn_dataset_load_dir(&ds, temp_dir, false, 0, 1) == DN_ERR_IO, "missing test set");
    error_says("t10k-images-idx3-ubyte.gz");
    CHECK_OK(dn_dataset_load_dir(&ds, temp_dir, true, DN_MNIST_MEAN, DN_MNIST_STD));
    CHECK(ds.count == 3 && ds.labels && ds.labels[2] == 3, "train set from raw files");
    CHECK(ds.images && fabsf(ds.images[0] + DN_MNIST_MEAN / DN_MNIST_STD) < 1e-6f, "MNIST normalisation");
    dn_dataset_free(&ds);

    /* The test set gzipped, with the .gz suffix. */
    uint8_t file[64], gz[128];
    size_t len = build_idx(file, DN_IDX_U8, 3, (uint32_t[]){3, 2, 2}, pixels, sizeof pixels);
    write_file("t10k-images-idx3-ubyte.gz", gz, build_gzip(gz, file, len));
    len = build_idx(file, DN_IDX_U8, 1, (uint32_t[]){3}, labels, 3);
    write_file("t10k-labels-idx1-ubyte.gz", gz, build_gzip(gz, file, len));
    CHECK_OK(dn_dataset_load_dir(&ds, temp_dir, false, 0, 1));
    CHECK(ds.count == 3 && ds.images && ds.images[1] == 1.0f && ds.labels && ds.labels[0] == 1, "test set from .gz");
    dn_dataset_free(&ds);

    /* Raw is preferred when both exist: a broken .gz beside it is not read. */
    write_file("train-images-idx3-ubyte.gz", (const uint8_t *)"garbage", 7);
    CHECK_OK(dn_dataset_load_dir(&ds, temp_dir, true, 0, 1));
    dn_dataset_free(&ds);
    unlink(temp_path("train-images-idx3-ubyte"));
    CHECK(dn_dataset_load_dir(&ds, temp_dir, true, 0, 1) == DN_ERR_FORMAT, "falls back to the broken .gz");
    error_says("train-images-idx3-ubyte.gz");
    CHECK(dn_dataset_load_dir(&ds, temp_path("missing-dir"), true, 0, 1) == DN_ERR_IO, "missing directory");
}

static void remove_temp_dir(void)
{
    const char *names[] = {"images.idx", "images-compressed.idx", "images-corrupt.gz", "bad.idx", "set-images",
                           "set-labels", "flat-images", "nchw-images", "train-images-idx3-ubyte",
                           "train-labels-idx1-ubyte", "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                           "t10k-labels-idx1-ubyte.gz"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(temp_path(names[i]));
    CHECK(rmdir(temp_dir) == 0, "temporary directory %s left behind", temp_dir);
}

int main(void)
{
    if (!mkdtemp(temp_dir)) {
        CHECK(false, "mkdtemp failed");
        return dn_test_finish();
    }
    test_read_u8();
    test_types();
    test_malformed();
    test_dataset();
    test_load_dir();
    remove_temp_dir();
    return dn_test_finish();
}
