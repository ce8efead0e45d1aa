/* dataset.c - labelled image sets from a pair of IDX files (MNIST layout):
 * pixels scaled and normalised to float NCHW, labels checked to be 0..9. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "digitnet/idx.h"
#include "internal.h"

enum { DN_DATASET_CLASSES = 10, DN_PATH_CAPACITY = 4096 };

static bool is_integer_type(dn_idx_type type) { return type != DN_IDX_F32 && type != DN_IDX_F64; }

static dn_status convert_images(dn_dataset *ds, const dn_idx *idx, const char *path, float mean, float std)
{
    size_t bytes;
    if (!dn_mul_size(idx->count, sizeof(float), &bytes))
        return dn_fail(DN_ERR_FORMAT, "%s: too many pixels", path);
    float *images = dn_alloc(bytes);
    if (!images)
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate %zu bytes of images", path, bytes);
    bool scale = idx->type == DN_IDX_U8;
    for (size_t i = 0; i < idx->count; i++) {
        float x = scale ? (float)idx->data[i] / 255.0f : (float)dn_idx_get(idx, i);
        x = (x - mean) / std;
        if (!isfinite(x)) {
            dn_free(images);
            return dn_fail(DN_ERR_FORMAT, "%s: element %zu (%g) is not finite after normalisation", path, i,
                           dn_idx_get(idx, i));
        }
        images[i] = x;
    }
    ds->images = images;
    return DN_OK;
}

static dn_status convert_labels(dn_dataset *ds, const dn_idx *idx, const char *path)
{
    if (idx->ndim != 1)
        return dn_fail(DN_ERR_FORMAT, "%s: labels must have 1 dimension [N], this file has %d", path, idx->ndim);
    if (!is_integer_type(idx->type))
        return dn_fail(DN_ERR_FORMAT, "%s: labels must be integers, not IDX type 0x%02x", path, idx->type);
    if (idx->dims[0] != ds->count)
        return dn_fail(DN_ERR_FORMAT, "%s: %d labels for %d images", path, idx->dims[0], ds->count);
    uint8_t *labels = dn_alloc(idx->count);
    if (!labels)
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate %zu labels", path, idx->count);
    for (size_t i = 0; i < idx->count; i++) {
        double label = dn_idx_get(idx, i);
        if (label < 0 || label >= DN_DATASET_CLASSES) {
            dn_free(labels);
            return dn_fail(DN_ERR_FORMAT, "%s: label %.0f of item %zu is outside 0..%d", path, label, i,
                           DN_DATASET_CLASSES - 1);
        }
        labels[i] = (uint8_t)label;
    }
    ds->labels = labels;
    ds->num_classes = DN_DATASET_CLASSES;
    return DN_OK;
}

dn_status dn_dataset_load(dn_dataset *ds, const char *images_path, const char *labels_path, float mean, float std)
{
    if (!ds || !images_path || !labels_path)
        return dn_fail(DN_ERR_ARG, "dn_dataset_load: NULL argument");
    memset(ds, 0, sizeof *ds);
    if (!isfinite(mean) || !isfinite(std) || !(std > 0))
        return dn_fail(DN_ERR_ARG, "dn_dataset_load: mean %g and std %g must be finite, std > 0", mean, std);

    dn_idx images, labels;
    dn_status status = dn_idx_read(&images, images_path);
    if (status != DN_OK)
        return status;
    if (images.ndim != 3 && images.ndim != 4) {
        status = dn_fail(DN_ERR_FORMAT, "%s: images must have 3 dimensions [N,H,W] (or 4, [N,C,H,W]), this file has %d",
                         images_path, images.ndim);
    } else {
        bool nchw = images.ndim == 4;
        ds->count = images.dims[0];
        ds->channels = nchw ? images.dims[1] : 1;
        ds->height = images.dims[nchw ? 2 : 1];
        ds->width = images.dims[nchw ? 3 : 2];
        status = convert_images(ds, &images, images_path, mean, std);
    }
    dn_idx_free(&images);
    if (status == DN_OK && (status = dn_idx_read(&labels, labels_path)) == DN_OK) {
        status = convert_labels(ds, &labels, labels_path);
        dn_idx_free(&labels);
    }
    if (status != DN_OK)
        dn_dataset_free(ds);
    return status;
}

/* Sets path to dir/name, or dir/name.gz when only that exists. */
static dn_status find_file(char *path, const char *dir, const char *name)
{
    struct stat st;
    int n = snprintf(path, DN_PATH_CAPACITY, "%s/%s", dir, name);
    if (n < 0 || n + 3 >= DN_PATH_CAPACITY)
        return dn_fail(DN_ERR_ARG, "%s: directory path too long", dir);
    if (stat(path, &st) == 0)
        return DN_OK;
    strcat(path, ".gz");
    if (stat(path, &st) == 0)
        return DN_OK;
    return dn_fail(DN_ERR_IO, "%s: neither %s nor %s.gz found (datasets/fetch-mnist.sh fetches MNIST)", dir, name,
                   name);
}

dn_status dn_dataset_load_dir(dn_dataset *ds, const char *dir, bool train, float mean, float std)
{
    if (!ds || !dir)
        return dn_fail(DN_ERR_ARG, "dn_dataset_load_dir: NULL argument");
    memset(ds, 0, sizeof *ds);
    char images_path[DN_PATH_CAPACITY], labels_path[DN_PATH_CAPACITY];
    dn_status status = find_file(images_path, dir, train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte");
    if (status == DN_OK)
        status = find_file(labels_path, dir, train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte");
    if (status != DN_OK)
        return status;
    return dn_dataset_load(ds, images_path, labels_path, mean, std);
}

dn_status dn_dataset_statistics(const dn_dataset *ds, float *mean, float *std)
{
    if (!ds || !mean || !std || !ds->images || ds->count < 1)
        return dn_fail(DN_ERR_ARG, "dn_dataset_statistics: an empty dataset has no statistics");
    const size_t n = (size_t)ds->count * ds->channels * ds->height * ds->width;
    double sum = 0, squares = 0;
    for (size_t i = 0; i < n; i++)
        sum += ds->images[i];
    double mu = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        squares += ((double)ds->images[i] - mu) * ((double)ds->images[i] - mu);
    double sigma = sqrt(squares / (double)n);
    /* 4 decimals: what people write down, and stable under the summation order */
    *mean = (float)(round(mu * 1e4) / 1e4);
    *std = (float)(round(sigma * 1e4) / 1e4);
    if (!(*std > 0) || !isfinite(*mean))
        return dn_fail(DN_ERR_ARG, "the images' values are all %g: nothing to normalise by", mu);
    return DN_OK;
}

dn_status dn_dataset_normalize(dn_dataset *ds, float mean, float std)
{
    if (!ds || !isfinite(mean) || !isfinite(std) || !(std > 0))
        return dn_fail(DN_ERR_ARG, "dn_dataset_normalize: mean %g and std %g must be finite, std > 0", mean, std);
    const size_t n = (size_t)ds->count * ds->channels * ds->height * ds->width;
    for (size_t i = 0; i < n; i++)
        ds->images[i] = (ds->images[i] - mean) / std;
    return DN_OK;
}

dn_status dn_dataset_concat(dn_dataset *out, const dn_dataset *a, const dn_dataset *b)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!out || !a || !b || a->count < 0 || b->count < 0)
        return dn_fail(DN_ERR_ARG, "dn_dataset_concat: need an output and two datasets");
    if (a->channels != b->channels || a->height != b->height || a->width != b->width)
        return dn_fail(DN_ERR_SHAPE, "dn_dataset_concat: %dx%dx%d images cannot join %dx%dx%d ones", a->channels,
                       a->height, a->width, b->channels, b->height, b->width);
    if (a->count > INT_MAX - b->count)
        return dn_fail(DN_ERR_LIMIT, "dn_dataset_concat: more than %d samples", INT_MAX);
    const size_t sample = (size_t)a->channels * a->height * a->width;
    const size_t count = (size_t)a->count + (size_t)b->count;
    size_t floats;
    if (!dn_mul_size(count, sample, &floats) || !dn_mul_size(floats, sizeof(float), &floats))
        return dn_fail(DN_ERR_LIMIT, "dn_dataset_concat: the joined set does not fit in memory");
    float *images = dn_alloc(floats);
    uint8_t *labels = dn_alloc(count);
    if (!images || !labels) {
        dn_free(images);
        dn_free(labels);
        return dn_fail(DN_ERR_NOMEM, "dn_dataset_concat: cannot allocate %zu samples", count);
    }
    if (a->count > 0) {
        memcpy(images, a->images, (size_t)a->count * sample * sizeof(float));
        memcpy(labels, a->labels, (size_t)a->count);
    }
    if (b->count > 0) {
        memcpy(images + (size_t)a->count * sample, b->images, (size_t)b->count * sample * sizeof(float));
        memcpy(labels + a->count, b->labels, (size_t)b->count);
    }
    *out = (dn_dataset){.count = (int)count, .channels = a->channels, .height = a->height, .width = a->width,
                        .images = images, .labels = labels,
                        .num_classes = a->num_classes > b->num_classes ? a->num_classes : b->num_classes};
    return DN_OK;
}

void dn_dataset_free(dn_dataset *ds)
{
    if (!ds)
        return;
    dn_free(ds->images);
    dn_free(ds->labels);
    memset(ds, 0, sizeof *ds);
}
