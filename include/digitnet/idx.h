/* digitnet/idx.h - IDX files (the MNIST format) and labelled image datasets.
 *
 * An IDX file is: two zero bytes, an element type byte, a dimension count
 * byte, one big-endian uint32 per dimension, then the elements, big-endian,
 * last dimension fastest. Files may be raw or gzip-compressed; gzip is
 * recognised by its magic bytes 1f 8b, not by the file name, and decompressed
 * with the library's own decoder (digitnet/gzip.h).
 *
 * Usage:
 *     dn_dataset train;
 *     if (dn_dataset_load_dir(&train, "datasets/mnist", true, DN_MNIST_MEAN,
 *                             DN_MNIST_STD) != DN_OK) {
 *         fprintf(stderr, "%s\n", dn_last_error());
 *         return 1;
 *     }
 *     ... train.images[i * 784 + y * 28 + x], train.labels[i] ...
 *     dn_dataset_free(&train);
 *
 * Readers check everything: magic, type, 1..4 dimensions each in 1..INT_MAX,
 * size overflow, and the data length against the file length exactly (a
 * short file and trailing bytes are both errors); failures are DN_ERR_FORMAT
 * (DN_ERR_IO when the file cannot be read) with a message that names the file.
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: nothing is kept between calls. Functions taking a const
 * dn_idx or dn_dataset only read it, so several may read one at once (two
 * trainings of two nets on one dataset, for instance); loading into, changing
 * or freeing one needs it to itself. */
#ifndef DIGITNET_IDX_H
#define DIGITNET_IDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/export.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mean and standard deviation of the MNIST training pixels scaled to [0,1]. */
#define DN_MNIST_MEAN 0.1307f
#define DN_MNIST_STD 0.3081f

#define DN_IDX_MAX_DIMS 4

/* Largest decompressed IDX file accepted (a bound against gzip bombs). */
#define DN_IDX_MAX_BYTES ((size_t)1 << 31)

/* Element types, the third byte of the magic number. */
typedef enum dn_idx_type {
    DN_IDX_U8 = 0x08,  /* unsigned byte: MNIST images and labels */
    DN_IDX_I8 = 0x09,  /* signed byte */
    DN_IDX_I16 = 0x0B, /* short, 2 bytes */
    DN_IDX_I32 = 0x0C, /* int, 4 bytes */
    DN_IDX_F32 = 0x0D, /* float, 4 bytes */
    DN_IDX_F64 = 0x0E, /* double, 8 bytes */
} dn_idx_type;

/* A whole IDX file. data holds count elements of elem_size bytes each,
 * converted to host byte order (so for DN_IDX_F32 it can be read as float
 * via memcpy); it is owned by the struct and released by dn_idx_free. */
typedef struct dn_idx {
    dn_idx_type type;
    int ndim;
    int dims[DN_IDX_MAX_DIMS]; /* dims[0] is the number of items */
    size_t count;              /* product of dims */
    size_t elem_size;
    uint8_t *data;
} dn_idx;

/* Bytes per element of an IDX type, or 0 for an unknown type byte. Cannot
 * fail. */
DN_API size_t dn_idx_type_size(int type);

/* Parses an IDX file held in memory (raw, not gzip). name is used only in
 * error messages. On success *idx owns a copy of the elements (release
 * with dn_idx_free); on failure it is zeroed. DN_ERR_FORMAT for anything
 * malformed (see above), DN_ERR_UNSUPPORTED for more than DN_IDX_MAX_DIMS
 * dimensions, DN_ERR_ARG for a NULL idx (or bytes, with len > 0),
 * DN_ERR_NOMEM. */
DN_API dn_status dn_idx_parse(dn_idx *idx, const uint8_t *bytes, size_t len, const char *name);

/* Reads and parses an IDX file, raw or gzip-compressed (at most
 * DN_IDX_MAX_BYTES decompressed). Errors of dn_idx_parse and dn_gunzip,
 * DN_ERR_IO when the file cannot be read, DN_ERR_UNSUPPORTED when it is
 * larger than that. */
DN_API dn_status dn_idx_read(dn_idx *idx, const char *path);

/* Element i as a double (exact for every type). i must be < idx->count;
 * cannot fail. */
DN_API double dn_idx_get(const dn_idx *idx, size_t i);

/* Releases idx->data and zeroes *idx; safe on a zeroed or freed dn_idx. */
DN_API void dn_idx_free(dn_idx *idx);

/* Images with one label each. images is count*channels*height*width floats
 * in NCHW order, labels count bytes, each < num_classes. Both are owned by
 * the struct (64-byte aligned) and released by dn_dataset_free. */
/* The label of a sample that belongs to no class (a drawing that is not a
 * digit): trained towards equal probabilities for every class (see
 * dn_net_backward). Readers never produce it. */
#define DN_LABEL_NONE 255

typedef struct dn_dataset {
    int count, channels, height, width;
    float *images;
    uint8_t *labels;
    int num_classes;
} dn_dataset;

/* Loads images and labels from two IDX files (raw or gzip).
 * Images: [N,H,W] (channels = 1) or [N,C,H,W]. Unsigned-byte pixels are
 * scaled to [0,1] by /255; other types are taken as they are. Every value
 * then becomes (x - mean) / std (pass 0 and 1 to keep them); non-finite
 * values are an error. Labels: [N] of an integer type, N equal to the image
 * count, every label in 0..9; num_classes is always 10 (digits, and the
 * ten-class sets that share MNIST's layout such as Fashion-MNIST). std must be
 * finite and > 0. On success *ds owns its buffers (release with
 * dn_dataset_free); on failure it is left zeroed. Errors: DN_ERR_ARG for a
 * NULL argument or a bad mean or std, DN_ERR_FORMAT for files that are not
 * such images and labels or disagree on the count, and the errors of
 * dn_idx_read. */
DN_API dn_status dn_dataset_load(dn_dataset *ds, const char *images_path, const char *labels_path, float mean,
                          float std);

/* Loads the training (train = true: train-images-idx3-ubyte,
 * train-labels-idx1-ubyte) or test set (t10k-images-idx3-ubyte,
 * t10k-labels-idx1-ubyte) from dir, each file raw or with a .gz suffix (raw
 * preferred when both exist). A missing file gives DN_ERR_IO naming it;
 * errors of dn_dataset_load otherwise. */
DN_API dn_status dn_dataset_load_dir(dn_dataset *ds, const char *dir, bool train, float mean, float std);

/* The mean and standard deviation of every value of ds's images (as loaded,
 * so load with mean 0 and std 1 to measure the raw pixels), each rounded to
 * 4 decimals: the input normalisation a network trained on ds should use.
 * For MNIST that gives the familiar 0.1307 and 0.3081. DN_ERR_ARG for an
 * empty set or one whose values are all the same. */
DN_API dn_status dn_dataset_statistics(const dn_dataset *ds, float *mean, float *std);

/* Every image value x becomes (x - mean) / std, exactly as loading with that
 * mean and std would have made it. DN_ERR_ARG, with nothing changed, unless
 * mean is finite and std finite and > 0. */
DN_API dn_status dn_dataset_normalize(dn_dataset *ds, float mean, float std);

/* *out = the samples of a followed by those of b (both must have the same
 * image shape); a and b are left as they are, and *out is a new dataset of
 * the caller's (dn_dataset_free). On failure *out is zeroed: DN_ERR_ARG for
 * a NULL argument, DN_ERR_SHAPE for different image shapes, DN_ERR_LIMIT
 * for more than INT_MAX samples or more bytes than a size_t counts,
 * DN_ERR_NOMEM. */
DN_API dn_status dn_dataset_concat(dn_dataset *out, const dn_dataset *a, const dn_dataset *b);

/* Releases the buffers and zeroes *ds; safe on NULL and on a zeroed or freed
 * dataset. */
DN_API void dn_dataset_free(dn_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif
