/* tensor.c - owned and viewed float32 tensors. */
#include <string.h>

#include "digitnet/tensor.h"
#include "internal.h"

size_t dn_shape_size(int ndim, const int *shape)
{
    if (ndim < 0 || ndim > DN_TENSOR_MAX_DIMS || (ndim > 0 && !shape))
        return 0; /* ndim 0 is a scalar: one element */
    size_t size = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1 || !dn_mul_size(size, (size_t)shape[i], &size))
            return 0;
    }
    if (!dn_mul_size(size, sizeof(float), &(size_t){0}))
        return 0;
    return size;
}

static dn_status describe(dn_tensor *tensor, float *data, int ndim, const int *shape)
{
    size_t size = dn_shape_size(ndim, shape);
    if (size == 0)
        return dn_fail(DN_ERR_SHAPE, "tensor shape must have 0 (a scalar) to %d dimensions, each >= 1",
                       DN_TENSOR_MAX_DIMS);
    memset(tensor, 0, sizeof *tensor);
    tensor->data = data;
    tensor->ndim = ndim;
    if (ndim > 0)
        memcpy(tensor->shape, shape, (size_t)ndim * sizeof *shape);
    tensor->size = size;
    return DN_OK;
}

dn_status dn_tensor_new(dn_tensor *tensor, int ndim, const int *shape)
{
    if (!tensor)
        return dn_fail(DN_ERR_ARG, "dn_tensor_new: tensor is NULL");
    dn_status status = describe(tensor, NULL, ndim, shape);
    if (status != DN_OK)
        return status;
    tensor->data = dn_calloc(tensor->size, sizeof(float));
    if (!tensor->data) {
        size_t size = tensor->size;
        memset(tensor, 0, sizeof *tensor);
        return dn_fail(DN_ERR_NOMEM, "cannot allocate a tensor of %zu floats", size);
    }
    tensor->owns_data = true;
    return DN_OK;
}

void dn_tensor_free(dn_tensor *tensor)
{
    if (!tensor)
        return;
    if (tensor->owns_data)
        dn_free(tensor->data);
    memset(tensor, 0, sizeof *tensor);
}

dn_status dn_tensor_view(dn_tensor *view, float *data, int ndim, const int *shape)
{
    if (!view || !data)
        return dn_fail(DN_ERR_ARG, "dn_tensor_view: view and data must not be NULL");
    return describe(view, data, ndim, shape);
}

dn_status dn_tensor_reshape(dn_tensor *view, const dn_tensor *src, int ndim, const int *shape)
{
    if (!view || !src || !src->data)
        return dn_fail(DN_ERR_ARG, "dn_tensor_reshape: view and src must not be NULL");
    if (dn_shape_size(ndim, shape) != src->size)
        return dn_fail(DN_ERR_SHAPE, "cannot reshape %zu elements to a shape of %zu",
                       src->size, dn_shape_size(ndim, shape));
    return describe(view, src->data, ndim, shape);
}

bool dn_tensor_same_shape(const dn_tensor *a, const dn_tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}
