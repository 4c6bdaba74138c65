"""Constant work once at init, and dense byte weights stored as codes: where each is taken and where not, the
module's scores on real MNIST test images are the module's without it, bit for bit."""

from __future__ import annotations

import re

import numpy as np
import pytest

from edgeshrink import api
from edgeshrink import recipe as recipes
from edgeshrink.core.model import with_signature
from edgeshrink.packing import decode, encode_dense
from edgeshrink.passes.base import PassContext
from edgeshrink.runtime import compiler, sparse, toolchain
from edgeshrink.runtime.compiler import from_prepared
from edgeshrink.runtime.prepare import prepare
from edgeshrink.runtime.program import Tensor
from edgeshrink.runtime.wasm import feed_images, run_images

SLICE = 200


def _shared(path, train):
    """(signature, the float model at `path`, the same with 16 shared int8 values per layer behind DequantizeLinear)."""
    opened = api.open_model(path)
    proto, signature = with_signature(opened.model, opened.detection.signature), opened.detection.signature
    steps = recipes.parse("shared", "", [{"pass": "cluster", "bits": 4, "finetune_epochs": 0},
                                         {"pass": "quantize", "mode": "weights"}]).steps
    model = proto
    for step in steps:
        model = step.spec.run(model, step.config, PassContext(signature, train, seed=0))
    return signature, proto, model


@pytest.fixture(scope="module")
def float_and_shared(tiny_cnn, train_split):
    return _shared(tiny_cnn, train_split)


def _scores(compiled, signature, pixels) -> np.ndarray:
    return run_images(compiled, feed_images(signature, pixels)).view(np.uint32)


def _calls(source: str, export: str) -> set[str]:
    line = next(line for line in source.splitlines() if f'export_name("{export}")' in line)
    return set(re.findall(r"\bk\d+\b", line))


def _labels(source: str) -> dict[str, str]:
    """Kernel function -> the operator it computes, from the comment above it."""
    return dict((k, op) for op, k in re.findall(r"/\* (\w+) [^*]*\*/\n(?:__attribute__\(\(minsize\)\) )?static void (k\d+)",
                                                source))


def test_nodes_on_constants_run_once_in_init_with_the_same_scores(float_and_shared, test_split):
    signature, _, shared = float_and_shared
    prepared = prepare(shared, signature)
    after, before = from_prepared(prepared, level="small"), from_prepared(prepared, level="small", hoist=False)
    labels = _labels(after.source)
    once, per_digit = _calls(after.source, "init"), _calls(after.source, "run")
    assert once and {labels[k] for k in once} == {"DequantizeLinear"}
    assert "DequantizeLinear" not in {labels[k] for k in per_digit}
    assert not _calls(before.source, "init")  # before: every node runs per digit
    pixels = test_split.images[:SLICE]
    assert np.array_equal(_scores(after, signature, pixels), _scores(before, signature, pixels))


def test_a_float_model_has_nothing_to_hoist_or_code(float_and_shared):
    signature, proto, _ = float_and_shared
    compiled = from_prepared(prepare(proto, signature), level="small")
    assert not _calls(compiled.source, "init") and not compiled.notes
    assert compiled.source == from_prepared(prepare(proto, signature), level="small", hoist=False, forms=()).source


@pytest.mark.parametrize("form", sparse.FORMS)
def test_each_dense_form_decodes_to_the_same_scores(form, float_and_shared, test_split, monkeypatch):
    """Every form, taken whether or not it measures smaller, gives the scores of the weights stored as they are."""
    signature, _, shared = float_and_shared
    prepared = prepare(shared, signature)
    plain = from_prepared(prepared, level="small", forms=())
    monkeypatch.setattr(compiler, "_smallest", lambda sources, simd, level: (
        sources[form], toolchain.build(sources[form], simd, level), form))
    coded = from_prepared(prepared, level="small", forms=(form,))
    assert "rt_book((uint8_t *)" in coded.source if form == "bytes" else "rt_unbits((uint8_t *)" in coded.source
    assert "rt_book((uint8_t *)" not in plain.source and "rt_unbits((uint8_t *)" not in plain.source
    pixels = test_split.images[:SLICE]
    assert np.array_equal(_scores(coded, signature, pixels), _scores(plain, signature, pixels))


def test_the_compiler_takes_a_dense_form_only_where_the_module_is_smaller(float_and_shared, small_cnn, train_split,
                                                                         test_split):
    """Measured on whole modules: zoo8 at a quarter width (906 weights) keeps its bytes in the small build (the
    decoder costs what the codes save), zoo8 (5,994 weights) takes codes in the fast build; scores unchanged."""
    from edgeshrink.size import measure

    taken = []
    for (signature, _, shared), level in ((float_and_shared, "small"), (_shared(small_cnn, train_split), "fast")):
        prepared = prepare(shared, signature)
        plain = from_prepared(prepared, level=level, forms=())
        chosen = from_prepared(prepared, level=level)
        size, plain_size = measure(chosen.files["model.wasm"]), measure(plain.files["model.wasm"])
        if chosen.notes:
            assert size.brotli < plain_size.brotli and size.gzip < plain_size.gzip
            assert "rt_book((uint8_t *)" in chosen.source or "rt_unbits((uint8_t *)" in chosen.source
        else:
            assert size == plain_size and chosen.source == plain.source
        taken.append(bool(chosen.notes))
        pixels = test_split.images[:SLICE]
        assert np.array_equal(_scores(chosen, signature, pixels), _scores(plain, signature, pixels))
    assert taken == [False, True]


def test_dense_codes_are_ranked_by_frequency_and_decode_exactly():
    rng = np.random.default_rng(0)
    values = rng.choice(np.array([-90, -3, 0, 7, 120], np.int8), size=(40, 9), p=[0.1, 0.2, 0.4, 0.25, 0.05])
    codes = encode_dense(values)
    assert codes.book[0] == 0 and codes.book[1] == 7 and codes.codes.max() == 4
    assert np.array_equal(decode(codes), values)
    assert encode_dense(np.arange(128).astype(np.uint8), limit=sparse.DENSE_VALUES) is None


def test_only_byte_constants_of_few_values_take_a_dense_form():
    rng = np.random.default_rng(1)
    few = rng.integers(-15, 16, 300).astype(np.int8)
    many = rng.integers(-128, 128, 300).astype(np.int8)
    tensors = [Tensor(n, a.shape, a.dtype, n, a) for n, a in
               (("A", few), ("B", many), ("C", few.astype(np.int32)), ("D", few[:8]))]
    found = sparse.dense(tensors, "bits")
    assert list(found) == ["A"] and found["A"].bits == 5
    packed = np.unpackbits(np.frombuffer(found["A"].packed(), np.uint8), bitorder="little")[:300 * 5]
    codes = (packed.reshape(300, 5).astype(np.uint8) << np.arange(5, dtype=np.uint8)).sum(1)
    assert np.array_equal(found["A"].codes.book[codes], few)
