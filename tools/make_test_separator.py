#!/usr/bin/env python3
"""Builds tests/data/gain4-separator.onnx, the test model of the neural separation backend.

It honours the separator contract (input `audio` [1, 2, T] -> output `stems` [1, 4, 2, T]) with
fixed gains per stem (0.1, 0.2, 0.3, 0.4), so the four stems add up to the input and each stem
is a known scaling of it: any seam left by chunking and overlap-add shows up as an error.
Needs the `onnx` package (pip install onnx). The output is a few hundred bytes and is committed.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

gains = numpy_helper.from_array(np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32).reshape(1, 4, 1, 1), "gains")
axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
graph = helper.make_graph(
    [
        helper.make_node("Unsqueeze", ["audio", "axes"], ["audio4"]),
        helper.make_node("Mul", ["audio4", "gains"], ["stems"]),
    ],
    "gain4_separator",
    [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, 2, "T"])],
    [helper.make_tensor_value_info("stems", TensorProto.FLOAT, [1, 4, 2, "T"])],
    initializer=[gains, axes],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="auralis")
model.ir_version = 8
onnx.checker.check_model(model)
out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/gain4-separator.onnx"
onnx.save(model, out)
print(out)
