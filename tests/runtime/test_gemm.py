"""Gemm and MatMul (+Add) against onnxruntime: transposes, alpha/beta, bias broadcasting, batched A."""

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
