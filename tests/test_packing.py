"""The weight codes of edgeshrink.packing: encode/decode round trips, and a packed graph that onnxruntime folds
back into the same weights."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import packing
from edgeshrink.core.model import count_params


def _sparse(rng, size: int, nonzero: int, values: int) -> np.ndarray:
    w = np.zeros(size, np.int8)
    w[rng.choice(size, nonzero, replace=False)] = rng.choice(np.arange(-values, values + 1)[np.arange(-values, values + 1) != 0], nonzero)
    return w


def test_round_trip_on_random_sparse_tensors():
    rng = np.random.default_rng(0)
    for size in (1, 7, 255, 256, 257, 3000):
        for nonzero in {0, 1, size // 10, size}:
            w = _sparse(rng, size, nonzero, 15).reshape(1, size)
            codes = packing.encode(w)
            assert np.array_equal(packing.decode(codes), w)
            assert codes.steps.dtype == codes.codes.dtype == np.uint8 and codes.book[0] == 0


def test_long_gaps_are_crossed_by_stored_zeros():
    w = np.zeros(2000, np.int8)
    w[[0, 255, 256, 511, 1999]] = [1, 2, 3, 4, 5]
    codes = packing.encode(w)
    assert np.array_equal(packing.decode(codes), w)
    first_late = np.zeros(1000, np.int8)
    first_late[700] = -3  # the first step counts from position 0
    codes = packing.encode(first_late)
    assert codes.steps.tolist() == [255, 255, 190] and codes.codes.tolist() == [0, 0, 1]
    assert np.array_equal(packing.decode(codes), first_late)


def test_more_values_than_byte_codes_are_not_encoded():
    assert packing.encode(np.arange(-128, 129, dtype=np.int16)) is None  # 256 non-zero values and the zero
    widest = np.arange(-128, 128, dtype=np.int16)  # 255 and the zero: codes 0 to 255
    assert np.array_equal(packing.decode(packing.encode(widest)), widest)


def _qdq_gemm(w: np.ndarray) -> onnx.ModelProto:
    """x (float) -> Q/DQ -> Gemm with int8 weights `w` behind a DequantizeLinear."""
    n, k = w.shape
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w", "ws"], ["wd"]),
        helper.make_node("Gemm", ["xd", "wd"], ["y"], transB=1),
    ]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.float32(0.01), "ws"),
             numpy_helper.from_array(np.float32(1 / 255), "xs"), numpy_helper.from_array(np.uint8(0), "xz")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", n])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_packed_graph_runs_in_onnxruntime_with_the_same_scores_and_unpacks(test_split):
    rng = np.random.default_rng(1)
    w = _sparse(rng, 10 * 784, 600, 12).reshape(10, 784)
    plain = _qdq_gemm(w)
    packed = onnx.ModelProto()
    packed.CopyFrom(plain)
    packing.pack(packed, "w", packing.encode(w))
    onnx.checker.check_model(packed, full_check=True)
    assert "w" not in {i.name for i in packed.graph.initializer}
    assert sorted(packing.packed_weights(packed)) == ["w"] and not packing.is_packed(plain)
    x = test_split.images[:256].reshape(256, -1).astype(np.float32) / 255
    run = [ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
           for m in (plain, packed)]
    assert np.array_equal(run[0], run[1])
    back = packing.unpacked(packed)
    assert [n.op_type for n in back.graph.node] == [n.op_type for n in plain.graph.node]
    assert np.array_equal(numpy_helper.to_array(next(i for i in back.graph.initializer if i.name == "w")), w)
    assert {i.name for i in back.graph.initializer} == {i.name for i in plain.graph.initializer}
    assert count_params(packed) == count_params(plain) == (w.size, 600)  # the weights, not their codes
    assert packing.unpacked(plain) is plain


@pytest.mark.parametrize("taken", [["w0"], ["w0", "w1", "w5"]])
def test_new_names_never_collide(taken):
    w = np.eye(16, dtype=np.int8)
    model = _qdq_gemm(w.reshape(16, 16))
    model.graph.initializer.extend(numpy_helper.from_array(np.float32(0), name) for name in taken)
    packing.pack(model, "w", packing.encode(w))
    names = [i.name for i in model.graph.initializer] + [o for n in model.graph.node for o in n.output]
    assert len(names) == len(set(names))
