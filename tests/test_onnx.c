/* test_onnx.c - the protobuf writer against encodings worked out by hand
 * from the protobuf spec, the ONNX model read back with a small protobuf
 * reader of this file (field numbers of onnx.proto: version, opset, nodes,
 * initializers equal to the net's tensors byte for byte, inputs, outputs,
 * metadata), and the export's errors. onnxruntime and ONNX's checker run
 * the exports in tests/onnx (test_onnx_runtime, test_onnx_checker). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digitnet.h"
#include "protobuf.h"
#include "test_util.h"

static bool bytes_are(const dn_pb *pb, const uint8_t *want, size_t len)
{
    return pb->status == DN_OK && pb->len == len && memcmp(pb->data, want, len) == 0;
}

static void test_varints(void)
{
    static const struct {
        uint64_t value;
        uint8_t bytes[10];
        size_t len;
    } cases[] = {
        {0, {0x00}, 1},
        {1, {0x01}, 1},
        {127, {0x7f}, 1},
        {128, {0x80, 0x01}, 2},
        {300, {0xac, 0x02}, 2}, /* the protobuf documentation's example */
        {16384, {0x80, 0x80, 0x01}, 3},
        {(uint64_t)1 << 32, {0x80, 0x80, 0x80, 0x80, 0x10}, 5},
        {UINT64_MAX, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t out[10];
        size_t n = dn_pb_varint(out, cases[i].value);
        CHECK(n == cases[i].len && memcmp(out, cases[i].bytes, n) == 0, "varint of %llu",
              (unsigned long long)cases[i].value);
    }
}

static void test_fields(void)
{
    dn_pb pb = {0};
    dn_pb_int(&pb, 1, 150); /* key 0x08, value 150 */
    CHECK(bytes_are(&pb, (const uint8_t[]){0x08, 0x96, 0x01}, 3), "int field 1 = 150");
    dn_pb_free(&pb);

    dn_pb_int(&pb, 2, -1); /* a negative int64 takes 10 bytes */
    CHECK(bytes_are(&pb, (const uint8_t[]){0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 11),
          "int field 2 = -1");
    dn_pb_free(&pb);

    dn_pb_float(&pb, 1, 1.0f); /* key 0x0d, then 0x3f800000 little-endian */
    CHECK(bytes_are(&pb, (const uint8_t[]){0x0d, 0x00, 0x00, 0x80, 0x3f}, 5), "float field 1 = 1.0");
    dn_pb_free(&pb);

    dn_pb_string(&pb, 2, "testing"); /* the documentation's example: 12 07 74 65 73 74 69 6e 67 */
    CHECK(bytes_are(&pb, (const uint8_t[]){0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}, 9), "string field");
    dn_pb_free(&pb);

    dn_pb_int(&pb, 20, 7); /* a field number above 15 takes a 2-byte key: (20 << 3) = 160 */
    CHECK(bytes_are(&pb, (const uint8_t[]){0xa0, 0x01, 0x07}, 3), "field 20");
    dn_pb_free(&pb);

    /* nested: message 3 { field 1 = 150 }, the documentation's 1a 03 08 96 01 */
    size_t mark = dn_pb_begin(&pb, 3);
    dn_pb_int(&pb, 1, 150);
    dn_pb_end(&pb, mark);
    CHECK(bytes_are(&pb, (const uint8_t[]){0x1a, 0x03, 0x08, 0x96, 0x01}, 5), "nested message");
    dn_pb_free(&pb);

    /* a body of 200 bytes inside two levels: its length takes 2 bytes and
     * the body moves after it */
    uint8_t body[198];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)i;
    size_t outer = dn_pb_begin(&pb, 7);
    size_t inner = dn_pb_begin(&pb, 1);
    dn_pb_bytes(&pb, 9, body, sizeof body); /* 1 key + 2 length + 198 = 201 bytes */
    dn_pb_end(&pb, inner);
    dn_pb_end(&pb, outer);
    bool ok = pb.status == DN_OK && pb.len == 1 + 2 + 1 + 2 + 201;
    ok = ok && pb.data[0] == 0x3a && pb.data[1] == 0xcc && pb.data[2] == 0x01; /* 204 = 0xcc 0x01 */
    ok = ok && pb.data[3] == 0x0a && pb.data[4] == 0xc9 && pb.data[5] == 0x01; /* 201 */
    ok = ok && pb.data[6] == 0x4a && pb.data[7] == 0xc6 && pb.data[8] == 0x01; /* 198 */
    ok = ok && memcmp(pb.data + 9, body, sizeof body) == 0;
    CHECK(ok, "two nested messages with 2-byte lengths");
    dn_pb_free(&pb);
}

/* ---- a protobuf reader, enough to walk an ONNX model ---- */

typedef struct field {
    int number, wire;
    uint64_t value;          /* varint, or fixed32 bits */
    const uint8_t *data;     /* length-delimited */
    size_t len;
} field;

typedef struct reader {
    const uint8_t *p, *end;
    bool bad;
} reader;

static bool read_varint(reader *r, uint64_t *value)
{
    *value = 0;
    for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        uint8_t b = *r->p++;
        *value |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    r->bad = true;
    return false;
}

static bool next_field(reader *r, field *f)
{
    uint64_t key;
    if (r->bad || r->p >= r->end || !read_varint(r, &key))
        return false;
    *f = (field){.number = (int)(key >> 3), .wire = (int)(key & 7)};
    if (f->wire == 0)
        return read_varint(r, &f->value);
    if (f->wire == 5 && r->end - r->p >= 4) {
        memcpy(&f->value, r->p, 4);
        r->p += 4;
        return true;
    }
    if (f->wire == 2 && read_varint(r, &f->value) && f->value <= (uint64_t)(r->end - r->p)) {
        f->data = r->p;
        f->len = (size_t)f->value;
        r->p += f->len;
        return true;
    }
    r->bad = true;
    return false;
}

static reader sub(const field *f) { return (reader){f->data, f->data + f->len, false}; }

/* The string of field `number` in a message, or "" (copied into text). */
static const char *string_of(const field *message, int number, char *text, size_t capacity)
{
    reader r = sub(message);
    field f;
    text[0] = '\0';
    while (next_field(&r, &f))
        if (f.number == number && f.wire == 2)
            snprintf(text, capacity, "%.*s", (int)f.len, (const char *)f.data);
    return text;
}

static bool find_field(const field *message, int number, field *out)
{
    reader r = sub(message);
    field f;
    while (next_field(&r, &f))
        if (f.number == number) {
            *out = f;
            return true;
        }
    return false;
}

/* The dims of a ValueInfoProto as text: "N,1,28,28". */
static void value_dims(const field *value, char *text, size_t capacity)
{
    field type, tensor, shape;
    text[0] = '\0';
    if (!find_field(value, 2, &type) || !find_field(&type, 1, &tensor) || !find_field(&tensor, 2, &shape))
        return;
    reader r = sub(&shape);
    field dim;
    size_t used = 0;
    while (next_field(&r, &dim) && used < capacity) {
        field d;
        char param[16];
        if (find_field(&dim, 1, &d))
            used += (size_t)snprintf(text + used, capacity - used, "%s%llu", used ? "," : "",
                                     (unsigned long long)d.value);
        else
            used += (size_t)snprintf(text + used, capacity - used, "%s%s", used ? "," : "",
                                     string_of(&dim, 2, param, sizeof param));
    }
}

/* Walks the export of `spec` and compares it with the net. */
static void test_model_structure(const char *spec, const char *const *ops, int op_count)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, spec, 3));
    if (!net)
        return;
    dn_model_info info = dn_model_info_default();
    info.input_mean = 0.25f;
    info.input_std = 0.5f;
    info.epochs = 3;
    info.test_accuracy = 0.9876f;
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK_OK(dn_onnx_encode(&bytes, &len, net, &info, &(dn_onnx_options){.probabilities = true}));
    reader r = {bytes, bytes + len, false};
    field f, graph = {0};
    int64_t ir = -1, opset = -1;
    int meta_found = 0;
    char text[512], key[64];
    while (next_field(&r, &f)) {
        if (f.number == 1)
            ir = (int64_t)f.value;
        else if (f.number == 7)
            graph = f;
        else if (f.number == 8) {
            field version;
            if (find_field(&f, 2, &version))
                opset = (int64_t)version.value;
        } else if (f.number == 14) {
            string_of(&f, 1, key, sizeof key);
            string_of(&f, 2, text, sizeof text);
            meta_found += strcmp(key, "spec") == 0 && strcmp(text, dn_net_spec(net)) == 0;
            meta_found += strcmp(key, "input_mean") == 0 && strcmp(text, "0.25") == 0;
            meta_found += strcmp(key, "input_std") == 0 && strcmp(text, "0.5") == 0;
            meta_found += strcmp(key, "epochs") == 0 && strcmp(text, "3") == 0;
            meta_found += strcmp(key, "test_accuracy") == 0 && strcmp(text, "0.987600") == 0;
            meta_found += strcmp(key, "digitnet_version") == 0 && strcmp(text, dn_version()) == 0;
        }
    }
    CHECK(!r.bad && r.p == r.end, "%s: the model parses to its end", spec);
    CHECK(ir == DN_ONNX_IR_VERSION && opset == DN_ONNX_OPSET, "%s: ir_version %lld, opset %lld", spec,
          (long long)ir, (long long)opset);
    CHECK(meta_found == 6, "%s: %d of 6 metadata entries found with their values", spec, meta_found);

    /* nodes in order, initializers equal to the net's tensors */
    reader g = sub(&graph);
    int node_count = 0, tensors_matched = 0, inputs = 0, outputs = 0;
    bool ops_ok = true;
    while (next_field(&g, &f)) {
        if (f.number == 1) {
            string_of(&f, 4, text, sizeof text);
            ops_ok = ops_ok && node_count < op_count && strcmp(text, ops[node_count]) == 0;
            if (!ops_ok && node_count < op_count)
                fprintf(stderr, "node %d: %s, want %s\n", node_count, text, ops[node_count]);
            node_count++;
        } else if (f.number == 5) {
            string_of(&f, 8, key, sizeof key);
            int index = dn_net_find_param(net, key);
            field raw;
            dn_net_param p;
            if (index >= 0 && find_field(&f, 9, &raw) && dn_net_get_param(net, index, &p) == DN_OK) {
                size_t n = dn_shape_size(p.value.ndim, p.value.shape);
                bool same = raw.len == 4 * n;
                for (size_t i = 0; same && i < n; i++) {
                    uint32_t bits;
                    memcpy(&bits, &p.value.data[i], 4);
                    same = raw.data[4 * i] == (bits & 0xff) && raw.data[4 * i + 3] == bits >> 24;
                }
                tensors_matched += same;
            }
        } else if (f.number == 11) {
            value_dims(&f, text, sizeof text);
            int shape[3];
            dn_net_input_shape(net, shape);
            char want[64];
            snprintf(want, sizeof want, "N,%d,%d,%d", shape[0], shape[1], shape[2]);
            inputs += strcmp(string_of(&f, 1, key, sizeof key), "input") == 0 && strcmp(text, want) == 0;
        } else if (f.number == 12) {
            value_dims(&f, text, sizeof text);
            char want[32];
            snprintf(want, sizeof want, "N,%d", dn_net_num_classes(net));
            string_of(&f, 1, key, sizeof key);
            outputs += (strcmp(key, outputs ? "probabilities" : "logits") == 0) && strcmp(text, want) == 0;
        }
    }
    CHECK(ops_ok && node_count == op_count, "%s: %d nodes of the expected kinds (want %d)", spec, node_count,
          op_count);
    /* every tensor but num_batches_tracked, which inference does not use */
    int want_tensors = 0;
    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param p;
        want_tensors += dn_net_get_param(net, t, &p) == DN_OK && !strstr(p.name, "num_batches_tracked");
    }
    CHECK(tensors_matched == want_tensors, "%s: %d of %d tensors found with the net's values", spec,
          tensors_matched, want_tensors);
    CHECK(inputs == 1 && outputs == 2, "%s: input [N,C,H,W] and outputs logits, probabilities [N,classes]", spec);

    uint8_t *again = NULL;
    size_t again_len = 0;
    CHECK_OK(dn_onnx_encode(&again, &again_len, net, &info, &(dn_onnx_options){.probabilities = true}));
    CHECK(again && again_len == len && memcmp(again, bytes, len) == 0, "%s: the same bytes twice", spec);
    dn_free(again);
    dn_free(bytes);
    dn_net_free(net);
}

static void test_errors(void)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, "input 1x4x4; flatten; linear 3", 1));
    uint8_t *bytes = (uint8_t *)1;
    size_t len = 1;
    CHECK(dn_onnx_encode(NULL, &len, net, NULL, NULL) == DN_ERR_ARG, "NULL bytes");
    CHECK(dn_onnx_encode(&bytes, &len, NULL, NULL, NULL) == DN_ERR_ARG && !bytes && len == 0, "NULL net");
    CHECK(dn_onnx_export(net, NULL, NULL, NULL) == DN_ERR_ARG, "NULL path");
    dn_model_info zero_std = dn_model_info_default();
    zero_std.input_std = 0.0f;
    CHECK(dn_onnx_encode(&bytes, &len, net, &zero_std, NULL) == DN_ERR_ARG, "input_std 0: DN_ERR_ARG");

    char dir[] = "/tmp/dn_test_onnx_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "temporary folder");
    char path[128], missing[160];
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    snprintf(missing, sizeof missing, "%s/no/such/folder.onnx", dir);
    CHECK(dn_onnx_export(net, NULL, NULL, missing) == DN_ERR_IO, "a folder that does not exist: DN_ERR_IO");

    /* a NaN weight: DN_ERR_NUMERIC, naming it, and the old file kept */
    FILE *f = fopen(path, "w");
    CHECK(f && fputs("old", f) >= 0 && fclose(f) == 0, "an old file");
    dn_net_params(net)[5] = NAN;
    CHECK(dn_onnx_export(net, NULL, NULL, path) == DN_ERR_NUMERIC, "NaN weight: DN_ERR_NUMERIC");
    CHECK(strstr(dn_last_error(), "fc1.weight[5]") != NULL, "the message names the tensor: %s", dn_last_error());
    size_t old_len = 0;
    char *old = dn_test_read_file(path, &old_len);
    CHECK(old && strcmp(old, "old") == 0, "the old file is untouched");
    free(old);
    dn_net_params(net)[5] = 0.5f;
    CHECK_OK(dn_onnx_export(net, NULL, NULL, path));
    size_t new_len = 0;
    char *written = dn_test_read_file(path, &new_len);
    CHECK_OK(dn_onnx_encode(&bytes, &len, net, NULL, NULL));
    CHECK(written && new_len == len && memcmp(written, bytes, len) == 0, "the file holds dn_onnx_encode's bytes");
    free(written);
    dn_free(bytes);
    unlink(path);
    rmdir(dir);
    dn_net_free(net);
}

/* Exporting reads the net and changes nothing: same predictions after. */
static void test_net_unchanged(void)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, "cnn-bn", 2));
    float input[2 * 784], before[20], after[20];
    dn_rng rng;
    dn_rng_seed(&rng, 1);
    dn_test_fill_uniform(&rng, input, 2 * 784, -1, 2);
    CHECK_OK(dn_net_predict(net, input, 2, before, 20));
    uint8_t *bytes;
    size_t len;
    CHECK_OK(dn_onnx_encode(&bytes, &len, net, NULL, NULL));
    dn_free(bytes);
    CHECK_OK(dn_net_predict(net, input, 2, after, 20));
    CHECK(memcmp(before, after, sizeof before) == 0, "predictions unchanged by an export");
    dn_net_free(net);
}

int main(void)
{
    test_varints();
    test_fields();
    static const char *const cnn_ops[] = {"Sub",  "Div",     "Conv",    "Relu", "Conv", "Relu",
                                          "MaxPool", "Flatten", "Gemm", "Relu", "Gemm", "Softmax"};
    test_model_structure("cnn", cnn_ops, 12);
    test_model_structure("cnn-dropout", cnn_ops, 12);
    static const char *const mlp_ops[] = {"Sub", "Div", "Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"};
    test_model_structure("mlp", mlp_ops, 9);
    /* a linear layer on a 4-D input, a conv after it, a conv last */
    static const char *const odd_ops[] = {"Sub",  "Div",     "BatchNormalization", "Flatten", "Gemm",
                                          "Relu", "Reshape", "Conv",               "Conv",    "Flatten", "Softmax"};
    test_model_structure("input 6x1x1; batchnorm; linear 4; relu; conv 5 1; conv 3 1", odd_ops, 11);
    test_errors();
    test_net_unchanged();
    return dn_test_finish();
}
