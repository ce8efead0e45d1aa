/* onnx_graph.h - how a layer kind writes itself into an ONNX graph (the
 * `onnx` entry of dn_layer_kind); the graph and the model around it are
 * built by onnx.c. Internal, never installed.
 *
 * The graph keeps a current value: the output of the layers so far, a
 * tensor of rank 4 ([N, C, H, W]) or 2 ([N, features]; a linear layer's
 * output, digitnet's features x 1 x 1). A layer adds one node (rarely more)
 * that reads it and becomes the new current value:
 *
 *     dn_onnx_node(g, "Conv", 4, 4, (const char *const[]){weight, bias}, 2);
 *     dn_onnx_attr_ints(g, "strides", (int64_t[]){s, s}, 2);
 *
 * Errors are sticky, as in protobuf.h: a kind's function returns
 * dn_onnx_status(g) at its end. */
#ifndef DN_ONNX_GRAPH_H
#define DN_ONNX_GRAPH_H

#include <stdint.h>

#include "digitnet/status.h"
#include "layer.h"

typedef struct dn_onnx_graph dn_onnx_graph;

/* Starts a node op_type whose inputs are the current value, made rank
 * `rank` first (a Flatten, or a Reshape to the layer's C x H x W, is added
 * when it has the other rank; 0 takes it as it is), then the `count` named
 * inputs. Its output, named after the layer ("conv1", "relu_2"), becomes
 * the current value with rank out_rank (0: the input's). */
void dn_onnx_node(dn_onnx_graph *g, const char *op_type, int rank, int out_rank, const char *const *inputs,
                  int count);

/* Attributes of the node just started. */
void dn_onnx_attr_int(dn_onnx_graph *g, const char *name, int64_t value);
void dn_onnx_attr_ints(dn_onnx_graph *g, const char *name, const int64_t *values, int count);
void dn_onnx_attr_float(dn_onnx_graph *g, const char *name, float value);

/* Room for a tensor's name: a layer name and a suffix ("bn1.running_var"). */
enum { DN_ONNX_NAME_MAX = 48 };

/* Adds tensor p of the layer as a float initializer named as in model
 * files ("conv1.weight") and writes that name into name. DN_ERR_NUMERIC
 * (sticky) when the tensor holds NaN or infinity. */
void dn_onnx_param(dn_onnx_graph *g, const dn_layer *layer, int p, char name[DN_ONNX_NAME_MAX]);

/* The first failure so far, or DN_OK. */
dn_status dn_onnx_status(const dn_onnx_graph *g);

#endif
