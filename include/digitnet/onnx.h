/* digitnet/onnx.h - a network exported as an ONNX model, to run it in
 * onnxruntime (native, onnxruntime-web in browsers, mobile), open it in
 * Netron, or convert it further. docs/onnx.md describes the graph.
 *
 *     dn_net *net;
 *     dn_model_info info;
 *     if (dn_model_load(&net, &info, "models/cnn.safetensors") == DN_OK &&
 *         dn_onnx_export(net, &info, NULL, "cnn.onnx") != DN_OK)
 *         puts(dn_last_error());
 *
 * The model (opset 13, IR version 7, written by the library itself: no
 * protobuf library) takes "input", float [N, C, H, W] with a free batch
 * dimension N, holding raw pixels in [0, 1] (pixel/255, MNIST's light digit
 * on black; dn_preprocess_mnist's output): the graph begins with
 * (x - input_mean) / input_std as Sub and Div nodes. Its output "logits" is
 * float [N, classes]; with options->probabilities a second output
 * "probabilities" is their Softmax. Each layer becomes the ONNX operator of
 * the same meaning: conv -> Conv, linear -> Gemm (transB), maxpool ->
 * MaxPool, relu -> Relu, flatten -> Flatten, batchnorm ->
 * BatchNormalization with the running statistics (evaluation mode), dropout
 * -> nothing (the identity at inference). Initializers carry the model
 * file's tensor names ("conv1.weight"). metadata_props record
 * digitnet_version, spec, input_mean, input_std, input, classes, outputs,
 * and the training facts of info that are known (epochs, seed,
 * test_accuracy, train_images).
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: reads the net (parameters and batchnorm statistics) and
 * changes nothing, so two exports of one net may run at once; like any use
 * of a net, not while another thread trains or runs it (net.h). */
#ifndef DIGITNET_ONNX_H
#define DIGITNET_ONNX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/export.h"
#include "digitnet/model.h"
#include "digitnet/net.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ONNX operator set and IR version of the files written. */
#define DN_ONNX_OPSET 13
#define DN_ONNX_IR_VERSION 7

/* Zero-initialised (or a NULL pointer) means the defaults. */
typedef struct dn_onnx_options {
    bool probabilities;   /* add the output "probabilities" (Softmax of the logits) */
} dn_onnx_options;

/* Encodes net as an ONNX model: *bytes (release with dn_free) of *len
 * bytes. info gives the input normalisation and the training facts for the
 * metadata (NULL: dn_model_info_default()). Errors: DN_ERR_ARG (a NULL
 * net, bytes or len; an input_std that is not > 0), DN_ERR_NUMERIC (a parameter is NaN or infinite),
 * DN_ERR_NOMEM, DN_ERR_LIMIT (over protobuf's 2 GiB). On failure *bytes is
 * NULL and *len 0. */
DN_API dn_status dn_onnx_encode(uint8_t **bytes, size_t *len, const dn_net *net, const dn_model_info *info,
                                const dn_onnx_options *options);

/* dn_onnx_encode written to path atomically (as model files are, digitnet/model.h):
 * on any failure the file at path is left as it was. Adds DN_ERR_IO. */
DN_API dn_status dn_onnx_export(const dn_net *net, const dn_model_info *info, const dn_onnx_options *options,
                                const char *path);

#ifdef __cplusplus
}
#endif
#endif
