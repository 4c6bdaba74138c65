"""Gemm and MatMul (+Add) against onnxruntime: transposes, alpha/beta, bias broadcasting, batched A."""

import numpy as np
import pytest
from onnx import helper

from tests.runtime.kernel_check import assert_matches, graph, rand


@pytest.mark.parametrize("ta,tb,alpha,beta,c_shape", [
    (0, 0, 1.0, 1.0, (5,)), (0, 1, 0.5, 2.0, (1, 5)), (1, 0, 1.0, 1.0, (3, 5)), (1, 1, 2.0, 0.5, (3, 1))])
def test_gemm(ta, tb, alpha, beta, c_shape):
    a_shape = (7, 3) if ta else (3, 7)
    b = rand((5, 7) if tb else (7, 5), 1)
    node = helper.make_node("Gemm", ["x", "b", "c"], ["y"], transA=ta, transB=tb, alpha=alpha, beta=beta)
    model = graph(node, a_shape, inits={"b": b, "c": rand(c_shape, 2)})
    assert_matches(model, [rand(a_shape, s) for s in range(3)], exact=False)


@pytest.mark.parametrize("a_shape,b_shape", [((1, 6), (6, 4)), ((2, 3, 6), (6, 4)), ((6,), (6, 4))])
def test_matmul_add(a_shape, b_shape):
    nodes = [helper.make_node("MatMul", ["x", "b"], ["m"]), helper.make_node("Add", ["m", "c"], ["y"])]
    model = graph(nodes, a_shape, inits={"b": rand(b_shape, 1), "c": rand((b_shape[-1],), 2)})
    assert_matches(model, [rand(a_shape, s) for s in range(3)], exact=False)


def _behind_qdq(nodes: list, inits: dict) -> tuple[list, dict]:
    """The same nodes fed through QuantizeLinear/DequantizeLinear: an int8 graph, where float kernels must
    round as onnxruntime's (MLAS's packed SGEMM: K in blocks of 256, fused multiply-adds, each block added
    to C)."""
    q = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
         helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"])]
    for node in nodes:
        node.input[0] = "xd" if node.input[0] == "x" else node.input[0]
    return q + nodes, {**inits, "s": np.float32(0.02), "z": np.uint8(128)}


@pytest.mark.parametrize("k,tb,alpha,beta,c_shape", [
    (600, 1, 1.0, 1.0, (10,)), (600, 0, 1.0, 1.0, (1, 10)), (300, 1, 0.5, 2.0, (10,)), (200, 1, 1.0, 0.0, (10,)),
    (513, 1, 1.0, 1.0, None)])
def test_gemm_in_an_int8_graph_is_bit_identical(k, tb, alpha, beta, c_shape):
    ins = ["x", "b"] + (["c"] if c_shape else [])
    node = helper.make_node("Gemm", ins, ["y"], transB=tb, alpha=alpha, beta=beta)
    inits = {"b": rand((10, k) if tb else (k, 10), 1)} | ({"c": rand(c_shape, 2)} if c_shape else {})
    nodes, inits = _behind_qdq([node], inits)
    assert_matches(graph(nodes, (1, k), inits=inits), [rand((1, k), s) for s in range(4)], exact=True)


def test_matmul_in_an_int8_graph_is_bit_identical():
    nodes, inits = _behind_qdq([helper.make_node("MatMul", ["x", "b"], ["y"])], {"b": rand((700, 10), 1)})
    assert_matches(graph(nodes, (1, 700), inits=inits), [rand((1, 700), s) for s in range(4)], exact=True)
