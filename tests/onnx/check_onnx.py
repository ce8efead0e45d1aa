#!/usr/bin/python3
"""check_onnx.py DIR - ONNX's own checker on every export listed in
DIR/manifest.json (make_exports.c), run with Debian's python3-onnx:
onnx.checker.check_model(full_check=True) (which also runs strict shape
inference), then what docs/onnx.md promises: IR version and opset, the
input and outputs with a free batch dimension, the metadata, the
normalisation constants, the initializer names of the model files, and the
operators each preset becomes. Ends with "N passed, N failed"; exits 77
without python3-onnx."""
import json
import sys

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper, shape_inference
except ImportError as e:
    print(f"skipped: {e} (apt-get install python3-onnx)", file=sys.stderr)
    sys.exit(77)

IR_VERSION, OPSET = 7, 13
# The operators each preset must become (docs/onnx.md), written out by hand
# from net.h's preset specs.
NORMALISE = ["Sub", "Div"]
CNN = NORMALISE + ["Conv", "Relu", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm", "Softmax"]
BN_BLOCK = ["Conv", "BatchNormalization", "Relu"]
EXPECTED_OPS = {
    "mlp": NORMALISE + ["Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"],
    "cnn": CNN,
    "cnn-dropout": CNN,
    "cnn-bn": NORMALISE + BN_BLOCK * 2 + ["MaxPool"] + BN_BLOCK * 2 + ["MaxPool", "Flatten", "Gemm",
              "BatchNormalization", "Relu", "Gemm", "Softmax"],
    # a batchnorm on a 20x1x1 input, a linear layer on it (Flatten first),
    # a conv after the linear layer (Reshape back to 4-D), a conv as the
    # last layer (Flatten to [N, classes])
    "linear-conv": NORMALISE + ["BatchNormalization", "Flatten", "Gemm", "Relu", "Reshape", "Conv",
                                "BatchNormalization", "Relu", "Conv", "Flatten", "Softmax"],
}
METADATA = {"digitnet_version", "spec", "input_mean", "input_std", "input", "classes", "outputs"}

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", file=sys.stderr)


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def check_case(directory, case):
    name = case["name"]
    path = f"{directory}/{name}.onnx"
    model = onnx.load(path)
    try:
        onnx.checker.check_model(model, full_check=True)
        check(True, "")
    except Exception as e:  # the checker's own exception types vary by version
        check(False, f"{name}: onnx.checker: {e}")
    check(model.ir_version == IR_VERSION, f"{name}: ir_version {model.ir_version}")
    opsets = {o.domain: o.version for o in model.opset_import}
    check(opsets == {"": OPSET}, f"{name}: opset_import {opsets}")
    check(model.producer_name == "digitnet", f"{name}: producer_name {model.producer_name!r}")

    graph = model.graph
    _, c, h, w = case["input_shape"]
    classes = case["classes"]
    check([i.name for i in graph.input] == ["input"], f"{name}: inputs {[i.name for i in graph.input]}")
    check(dims(graph.input[0]) == ["N", c, h, w], f"{name}: input dims {dims(graph.input[0])}")
    check([o.name for o in graph.output] == ["logits", "probabilities"], f"{name}: outputs")
    for output in graph.output:
        check(dims(output) == ["N", classes], f"{name}: {output.name} dims {dims(output)}")
        check(output.type.tensor_type.elem_type == onnx.TensorProto.FLOAT, f"{name}: {output.name} type")

    inferred = shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {v.name: dims(v) for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    check(shapes.get("logits") == ["N", classes], f"{name}: inferred logits shape {shapes.get('logits')}")

    meta = {p.key: p.value for p in model.metadata_props}
    check(METADATA <= set(meta), f"{name}: metadata lacks {METADATA - set(meta)}")
    check(meta.get("classes") == str(classes), f"{name}: metadata classes {meta.get('classes')}")
    check(meta.get("outputs") == "logits, probabilities", f"{name}: metadata outputs {meta.get('outputs')}")
    check(meta.get("spec", "").startswith(f"input {c}x{h}x{w};"), f"{name}: metadata spec {meta.get('spec')}")

    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for key in ("input_mean", "input_std"):
        value = inits.get(key)
        check(value is not None and value.shape == () and float(value) == np.float32(float(meta.get(key, "nan"))),
              f"{name}: {key} initializer {value} against metadata {meta.get(key)}")
    ops = [n.op_type for n in graph.node]
    check(ops[:2] == NORMALISE and graph.node[0].input[0] == "input",
          f"{name}: the graph does not start with the normalisation: {ops[:3]}")
    if name in EXPECTED_OPS:
        check(ops == EXPECTED_OPS[name], f"{name}: operators {ops}")
    # every weight is a model-file tensor name, non-trivial (not all one value)
    params = [k for k in inits if "." in k]
    check(len(params) > 0 and all(k.split(".")[1] in ("weight", "bias", "running_mean", "running_var") for k in params),
          f"{name}: initializer names {params}")
    trivial = [k for k in params if inits[k].size > 1 and np.all(inits[k] == inits[k].flat[0])]
    check(not trivial, f"{name}: constant tensors {trivial} (the test wants trained weights)")
    used = {i for n in graph.node for i in n.input}
    check(set(inits) <= used, f"{name}: unused initializers {set(inits) - used}")
    print(f"{name:14} checker ok, {len(graph.node)} nodes, {sum(v.size for v in inits.values())} weights")


def main():
    directory = sys.argv[1]
    with open(f"{directory}/manifest.json") as f:
        manifest = json.load(f)
    check(len(manifest["cases"]) > 0, "the manifest lists no model")
    for case in manifest["cases"]:
        check_case(directory, case)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
