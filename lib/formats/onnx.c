/* onnx.c - a network as an ONNX model (digitnet/onnx.h): the input
 * normalisation, one node per layer written by its kind (onnx_graph.h),
 * the outputs and metadata, in the messages and field numbers of ONNX's
 * onnx.proto, encoded by protobuf.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "digitnet/onnx.h"
#include "digitnet/version.h"
#include "fileio.h"
#include "internal.h"
#include "net_internal.h"
#include "number.h"
#include "onnx_graph.h"
#include "protobuf.h"

/* Field numbers of onnx.proto (ONNX 1.x; stable since IR version 3). */
enum {
    MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3, MODEL_DOC_STRING = 6,
    MODEL_GRAPH = 7, MODEL_OPSET_IMPORT = 8, MODEL_METADATA_PROPS = 14,
    OPSET_VERSION = 2,
    ENTRY_KEY = 1, ENTRY_VALUE = 2,
    GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_DOC_STRING = 10, GRAPH_INPUT = 11,
    GRAPH_OUTPUT = 12,
    NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5,
    ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_INTS = 8, ATTR_TYPE = 20,
    ATTR_TYPE_FLOAT = 1, ATTR_TYPE_INT = 2, ATTR_TYPE_INTS = 7,
    TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9,
    TENSOR_FLOAT = 1, TENSOR_INT64 = 7,
    VALUE_NAME = 1, VALUE_TYPE = 2,
    TYPE_TENSOR = 1, TYPE_TENSOR_ELEM_TYPE = 1, TYPE_TENSOR_SHAPE = 2,
    SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2,
};

enum { VALUE_NAME_MAX = 64 };

struct dn_onnx_graph {
    dn_pb nodes;         /* finished nodes: GraphProto fields */
    dn_pb node;          /* the last node started, all but its output */
    char node_output[VALUE_NAME_MAX]; /* what its output will be called */
    bool pending;        /* node holds a node not yet in nodes */
    dn_pb initializers;  /* GraphProto fields */
    char value[VALUE_NAME_MAX]; /* the current value (onnx_graph.h) */
    int rank;
    const dn_layer *layer; /* the layer being written; NULL around the layers */
    int index;             /* its position in the net */
    int layer_nodes;       /* nodes it has added so far */
    dn_status status;      /* the first failure that is not the encoder's */
};

dn_status dn_onnx_status(const dn_onnx_graph *g)
{
    const dn_status all[] = {g->status, g->nodes.status, g->node.status, g->initializers.status};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] != DN_OK)
            return all[i];
    return DN_OK;
}

/* ---- tensors ---- */

static void float_initializer(dn_onnx_graph *g, const char *name, int ndim, const int *shape, const float *values,
                              size_t count)
{
    size_t bad = dn_find_non_finite(values, count);
    if (bad != count) {
        if (g->status == DN_OK)
            g->status = dn_fail(DN_ERR_NUMERIC, "ONNX export: %s[%zu] is %g (training diverged?)", name, bad,
                                (double)values[bad]);
        return;
    }
    dn_pb *pb = &g->initializers;
    size_t mark = dn_pb_begin(pb, GRAPH_INITIALIZER);
    for (int d = 0; d < ndim; d++)
        dn_pb_int(pb, TENSOR_DIMS, shape[d]);
    dn_pb_int(pb, TENSOR_DATA_TYPE, TENSOR_FLOAT);
    dn_pb_string(pb, TENSOR_NAME, name);
    size_t bytes;
    uint8_t *raw = dn_mul_size(count, 4, &bytes) ? dn_pb_bytes_space(pb, TENSOR_RAW_DATA, bytes) : NULL;
    for (size_t i = 0; raw && i < count; i++) { /* raw_data is little-endian */
        uint32_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        for (int b = 0; b < 4; b++)
            raw[4 * i + (size_t)b] = (uint8_t)(bits >> (8 * b));
    }
    dn_pb_end(pb, mark);
}

static void int64_initializer(dn_onnx_graph *g, const char *name, const int64_t *values, int count)
{
    dn_pb *pb = &g->initializers;
    size_t mark = dn_pb_begin(pb, GRAPH_INITIALIZER);
    dn_pb_int(pb, TENSOR_DIMS, count);
    dn_pb_int(pb, TENSOR_DATA_TYPE, TENSOR_INT64);
    dn_pb_string(pb, TENSOR_NAME, name);
    uint8_t *raw = dn_pb_bytes_space(pb, TENSOR_RAW_DATA, (size_t)count * 8);
    for (int i = 0; raw && i < count; i++)
        for (int b = 0; b < 8; b++)
            raw[8 * i + b] = (uint8_t)((uint64_t)values[i] >> (8 * b));
    dn_pb_end(pb, mark);
}

void dn_onnx_param(dn_onnx_graph *g, const dn_layer *layer, int p, char name[DN_ONNX_NAME_MAX])
{
    const dn_layer_param *param = &layer->params[p];
    snprintf(name, DN_ONNX_NAME_MAX, "%s.%s", layer->name, param->suffix);
    float_initializer(g, name, param->ndim, param->shape, layer->values[p], param->size);
}

/* ---- nodes ---- */

/* Puts the pending node into the graph with its output called output. */
static void finish_node(dn_onnx_graph *g, const char *output)
{
    if (!g->pending)
        return;
    dn_pb_string(&g->node, NODE_OUTPUT, output);
    dn_pb_bytes(&g->nodes, GRAPH_NODE, g->node.data, g->node.len);
    g->node.len = 0;
    g->pending = false;
}

/* Starts node op_type called name reading inputs; its output will be called
 * name too, unless it turns out to be the graph's last (finish_node). The
 * output field is written last: fields of a message may come in any order. */
static void start_node(dn_onnx_graph *g, const char *op_type, const char *name, const char *const *inputs,
                       int count)
{
    finish_node(g, g->node_output);
    for (int i = 0; i < count; i++)
        dn_pb_string(&g->node, NODE_INPUT, inputs[i]);
    dn_pb_string(&g->node, NODE_NAME, name);
    dn_pb_string(&g->node, NODE_OP_TYPE, op_type);
    snprintf(g->node_output, sizeof g->node_output, "%s", name);
    snprintf(g->value, sizeof g->value, "%s", name);
    g->pending = true;
}

/* Node names: the layer's ("conv1"), or its kind and position ("relu_2"),
 * with a suffix for the adapters before it and any second node. */
static void node_name(const dn_onnx_graph *g, const char *suffix, char *name, size_t capacity)
{
    if (!g->layer)
        snprintf(name, capacity, "output%s", suffix);
    else if (g->layer->name[0])
        snprintf(name, capacity, "%s%s", g->layer->name, suffix);
    else
        snprintf(name, capacity, "%s_%d%s", g->layer->kind->name, g->index + 1, suffix);
}

static void attr_begin(dn_onnx_graph *g, const char *name, int type, size_t *mark)
{
    *mark = dn_pb_begin(&g->node, NODE_ATTRIBUTE);
    dn_pb_string(&g->node, ATTR_NAME, name);
    dn_pb_int(&g->node, ATTR_TYPE, type);
}

void dn_onnx_attr_int(dn_onnx_graph *g, const char *name, int64_t value)
{
    size_t mark;
    attr_begin(g, name, ATTR_TYPE_INT, &mark);
    dn_pb_int(&g->node, ATTR_I, value);
    dn_pb_end(&g->node, mark);
}

void dn_onnx_attr_ints(dn_onnx_graph *g, const char *name, const int64_t *values, int count)
{
    size_t mark;
    attr_begin(g, name, ATTR_TYPE_INTS, &mark);
    for (int i = 0; i < count; i++)
        dn_pb_int(&g->node, ATTR_INTS, values[i]);
    dn_pb_end(&g->node, mark);
}

void dn_onnx_attr_float(dn_onnx_graph *g, const char *name, float value)
{
    size_t mark;
    attr_begin(g, name, ATTR_TYPE_FLOAT, &mark);
    dn_pb_float(&g->node, ATTR_F, value);
    dn_pb_end(&g->node, mark);
}

/* Makes the current value rank 2 (Flatten) or 4 (Reshape to the layer's
 * input shape, [0, C, H, W]: 0 keeps the batch dimension). */
static void make_rank(dn_onnx_graph *g, int rank)
{
    if (rank == 0 || rank == g->rank)
        return;
    char name[VALUE_NAME_MAX], input[VALUE_NAME_MAX];
    snprintf(input, sizeof input, "%s", g->value);
    if (rank == 2) {
        node_name(g, "_flat", name, sizeof name);
        start_node(g, "Flatten", name, (const char *const[]){input}, 1);
        dn_onnx_attr_int(g, "axis", 1);
    } else {
        char shape_name[VALUE_NAME_MAX];
        node_name(g, "_shape", shape_name, sizeof shape_name);
        const int *s = g->layer->in_shape;
        const int64_t shape[4] = {0, s[0], s[1], s[2]};
        int64_initializer(g, shape_name, shape, 4);
        node_name(g, "_4d", name, sizeof name);
        start_node(g, "Reshape", name, (const char *const[]){input, shape_name}, 2);
    }
    g->rank = rank;
}

void dn_onnx_node(dn_onnx_graph *g, const char *op_type, int rank, int out_rank, const char *const *inputs,
                  int count)
{
    make_rank(g, rank);
    const char *all[5];
    char input[VALUE_NAME_MAX], name[VALUE_NAME_MAX];
    if (count > 4) {
        if (g->status == DN_OK)
            g->status = dn_fail(DN_ERR_ARG, "ONNX export: a node of %d inputs", count + 1);
        return;
    }
    snprintf(input, sizeof input, "%s", g->value);
    all[0] = input;
    for (int i = 0; i < count; i++)
        all[i + 1] = inputs[i];
    char suffix[16] = "";
    if (g->layer_nodes++)
        snprintf(suffix, sizeof suffix, "_%d", g->layer_nodes);
    node_name(g, suffix, name, sizeof name);
    start_node(g, op_type, name, all, count + 1);
    if (out_rank)
        g->rank = out_rank;
}

/* ---- the model ---- */

/* A ValueInfoProto: a float tensor whose first dimension is the batch, N. */
static void tensor_value(dn_pb *pb, int field, const char *name, const int *dims, int ndim)
{
    size_t value = dn_pb_begin(pb, field);
    dn_pb_string(pb, VALUE_NAME, name);
    size_t type = dn_pb_begin(pb, VALUE_TYPE);
    size_t tensor = dn_pb_begin(pb, TYPE_TENSOR);
    dn_pb_int(pb, TYPE_TENSOR_ELEM_TYPE, TENSOR_FLOAT);
    size_t shape = dn_pb_begin(pb, TYPE_TENSOR_SHAPE);
    size_t dim = dn_pb_begin(pb, SHAPE_DIM);
    dn_pb_string(pb, DIM_PARAM, "N");
    dn_pb_end(pb, dim);
    for (int d = 0; d < ndim; d++) {
        dim = dn_pb_begin(pb, SHAPE_DIM);
        dn_pb_int(pb, DIM_VALUE, dims[d]);
        dn_pb_end(pb, dim);
    }
    dn_pb_end(pb, shape);
    dn_pb_end(pb, tensor);
    dn_pb_end(pb, type);
    dn_pb_end(pb, value);
}

static void metadata(dn_pb *pb, const char *key, const char *value)
{
    size_t mark = dn_pb_begin(pb, MODEL_METADATA_PROPS);
    dn_pb_string(pb, ENTRY_KEY, key);
    dn_pb_string(pb, ENTRY_VALUE, value);
    dn_pb_end(pb, mark);
}

static void metadata_number(dn_pb *pb, const char *key, const char *fmt, double value)
{
    char text[64];
    dn_snprintf(text, sizeof text, fmt, value);
    metadata(pb, key, text);
}

/* Every node: the normalisation, the layers, the outputs. */
static dn_status build_graph(dn_onnx_graph *g, const dn_net *net, const dn_model_info *info, bool probabilities)
{
    snprintf(g->value, sizeof g->value, "input");
    g->rank = 4;
    float_initializer(g, "input_mean", 0, NULL, &info->input_mean, 1);
    float_initializer(g, "input_std", 0, NULL, &info->input_std, 1);
    start_node(g, "Sub", "input_centered", (const char *const[]){"input", "input_mean"}, 2);
    start_node(g, "Div", "input_normalized", (const char *const[]){"input_centered", "input_std"}, 2);
    for (int i = 0; i < net->layer_count && dn_onnx_status(g) == DN_OK; i++) {
        const dn_layer *layer = &net->layers[i];
        g->layer = layer;
        g->index = i;
        g->layer_nodes = 0;
        if (!layer->kind->onnx)
            return dn_fail(DN_ERR_UNSUPPORTED, "ONNX export: layer %d (%s) has no ONNX form", i + 1,
                           layer->kind->name);
        dn_status status = layer->kind->onnx(layer, g);
        if (status != DN_OK)
            return status;
    }
    g->layer = NULL;
    make_rank(g, 2);
    finish_node(g, "logits");
    if (probabilities) {
        start_node(g, "Softmax", "probabilities", (const char *const[]){"logits"}, 1);
        dn_onnx_attr_int(g, "axis", 1);
        finish_node(g, "probabilities");
    }
    return dn_onnx_status(g);
}

static void write_metadata(dn_pb *pb, const dn_net *net, const dn_model_info *info, bool probabilities)
{
    char text[256];
    metadata(pb, "digitnet_version", DN_VERSION_STRING);
    metadata(pb, "spec", net->spec);
    metadata_number(pb, "input_mean", "%.9g", info->input_mean);
    metadata_number(pb, "input_std", "%.9g", info->input_std);
    snprintf(text, sizeof text,
             "float [N, %d, %d, %d], raw pixels in [0, 1] (pixel/255, light digit on black); "
             "the graph normalises (x - input_mean) / input_std",
             net->input_shape[0], net->input_shape[1], net->input_shape[2]);
    metadata(pb, "input", text);
    metadata_number(pb, "classes", "%.0f", net->classes);
    metadata(pb, "outputs", probabilities ? "logits, probabilities" : "logits");
    if (info->epochs >= 0)
        metadata_number(pb, "epochs", "%.0f", info->epochs);
    if (info->seed >= 0) {
        snprintf(text, sizeof text, "%" PRId64, info->seed);
        metadata(pb, "seed", text);
    }
    if (info->test_accuracy >= 0)
        metadata_number(pb, "test_accuracy", "%.6f", info->test_accuracy);
    if (info->train_images >= 0)
        metadata_number(pb, "train_images", "%.0f", (double)info->train_images);
}

static void write_model(dn_pb *pb, const dn_onnx_graph *g, const dn_net *net, const dn_model_info *info,
                        bool probabilities)
{
    dn_pb_int(pb, MODEL_IR_VERSION, DN_ONNX_IR_VERSION);
    dn_pb_string(pb, MODEL_PRODUCER_NAME, "digitnet");
    dn_pb_string(pb, MODEL_PRODUCER_VERSION, DN_VERSION_STRING);
    dn_pb_string(pb, MODEL_DOC_STRING, net->spec);
    size_t graph = dn_pb_begin(pb, MODEL_GRAPH);
    dn_pb_append(pb, g->nodes.data, g->nodes.len);
    dn_pb_string(pb, GRAPH_NAME, "digitnet");
    dn_pb_append(pb, g->initializers.data, g->initializers.len);
    dn_pb_string(pb, GRAPH_DOC_STRING, "input: raw pixels in [0, 1]; outputs: class logits"
                                       " (and their softmax, probabilities)");
    tensor_value(pb, GRAPH_INPUT, "input", net->input_shape, 3);
    tensor_value(pb, GRAPH_OUTPUT, "logits", &net->classes, 1);
    if (probabilities)
        tensor_value(pb, GRAPH_OUTPUT, "probabilities", &net->classes, 1);
    dn_pb_end(pb, graph);
    size_t opset = dn_pb_begin(pb, MODEL_OPSET_IMPORT);
    dn_pb_int(pb, OPSET_VERSION, DN_ONNX_OPSET);
    dn_pb_end(pb, opset);
    write_metadata(pb, net, info, probabilities);
}

dn_status dn_onnx_encode(uint8_t **bytes, size_t *len, const dn_net *net, const dn_model_info *info,
                         const dn_onnx_options *options)
{
    if (bytes)
        *bytes = NULL;
    if (len)
        *len = 0;
    if (!bytes || !len || !net)
        return dn_fail(DN_ERR_ARG, "dn_onnx_encode: bytes, len and net must not be NULL");
    dn_model_info defaults = dn_model_info_default();
    if (!info)
        info = &defaults;
    if (!(info->input_std > 0.0f))
        return dn_fail(DN_ERR_ARG, "dn_onnx_encode: input_std %g must be > 0", (double)info->input_std);
    bool probabilities = options && options->probabilities;
    dn_onnx_graph g = {0};
    dn_pb model = {0};
    dn_status status = build_graph(&g, net, info, probabilities);
    if (status == DN_OK) {
        write_model(&model, &g, net, info, probabilities);
        status = model.status;
    }
    dn_pb_free(&g.nodes);
    dn_pb_free(&g.node);
    dn_pb_free(&g.initializers);
    if (status != DN_OK) {
        dn_pb_free(&model);
        return status;
    }
    *bytes = model.data;
    *len = model.len;
    return DN_OK;
}

dn_status dn_onnx_export(const dn_net *net, const dn_model_info *info, const dn_onnx_options *options,
                         const char *path)
{
    if (!path)
        return dn_fail(DN_ERR_ARG, "dn_onnx_export: path must not be NULL");
    uint8_t *bytes;
    size_t len;
    dn_status status = dn_onnx_encode(&bytes, &len, net, info, options);
    if (status != DN_OK)
        return dn_fail_context(status, "%s", path);
    status = dn_write_file_atomic(path, bytes, len);
    dn_free(bytes);
    return status;
}
