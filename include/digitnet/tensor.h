/* digitnet/tensor.h - float32 tensors in NCHW order.
 *
 * A dn_tensor is a small value (pass it by pointer, keep it on the stack or in
 * a struct) describing up to four dimensions over a contiguous float buffer.
 * dn_tensor_new allocates an owned, 64-byte aligned, zero-filled buffer that
 * dn_tensor_free releases; dn_tensor_view describes someone else's buffer
 * (another tensor's, or caller memory) without copying, e.g. to flatten
 * [N,C,H,W] into [N,C*H*W]. A view never frees its buffer, and must not
 * outlive it. Conventions (errors, ownership, threads) are those of
 * digitnet.h.
 *
 * Thread-safety: a dn_tensor is a plain value; the functions keep no state
 * and touch only the tensors they are given, so calls on different tensors
 * (or only reading one) may run at once in any threads. */
#ifndef DIGITNET_TENSOR_H
#define DIGITNET_TENSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "digitnet/export.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DN_TENSOR_MAX_DIMS 4

typedef struct dn_tensor {
    float *data;
    int ndim;
    int shape[DN_TENSOR_MAX_DIMS]; /* shape[0] is N for batched tensors */
    size_t size;                   /* product of shape[0..ndim): 1 for a scalar (ndim 0) */
    bool owns_data;
} dn_tensor;

/* Allocates a zero-filled tensor of the given shape (0 dims for a scalar, up
 * to 4, each >= 1), owned by *tensor: release it with dn_tensor_free.
 * DN_ERR_SHAPE for a bad shape, DN_ERR_ARG for a NULL tensor, DN_ERR_NOMEM. */
DN_API dn_status dn_tensor_new(dn_tensor *tensor, int ndim, const int *shape);

/* Frees an owned buffer (a view's is left alone) and resets *tensor to empty.
 * Safe on NULL and on a zero-initialised or already freed tensor. */
DN_API void dn_tensor_free(dn_tensor *tensor);

/* Describes data as a tensor of the given shape, without copying: the view
 * borrows data, which must hold the shape's size in floats and outlive it.
 * DN_ERR_SHAPE for a bad shape, DN_ERR_ARG for a NULL view or data. */
DN_API dn_status dn_tensor_view(dn_tensor *view, float *data, int ndim, const int *shape);

/* A view of src's buffer with another shape of the same size (flatten,
 * unflatten). DN_ERR_SHAPE for a bad shape or another size, DN_ERR_ARG for a
 * NULL view or src. */
DN_API dn_status dn_tensor_reshape(dn_tensor *view, const dn_tensor *src, int ndim, const int *shape);

/* Number of elements of one shape (1 for ndim 0), or 0 if ndim is not
 * 0..4, a dimension is < 1 or the size in bytes overflows. */
DN_API size_t dn_shape_size(int ndim, const int *shape);

/* True when both tensors have the same number of dimensions and extents. */
DN_API bool dn_tensor_same_shape(const dn_tensor *a, const dn_tensor *b);

#ifdef __cplusplus
}
#endif
#endif
