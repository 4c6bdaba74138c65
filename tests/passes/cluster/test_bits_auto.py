"""`bits: auto`: per layer the fewest bits within the run's budget, the largest layer lowered first, one bit a
trial; and a fixed `bits` as before."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from edgeshrink import inference, packing
from edgeshrink.errors import PassError
from edgeshrink.finetune.config import FineTune
from edgeshrink.params import build_config
from edgeshrink.passes import heldout, pack, quantize
from edgeshrink.passes.cluster import ClusterConfig, auto, run
from edgeshrink.passes.cluster.sharing import shared
from edgeshrink.passes.prune import PruneConfig
from edgeshrink.passes.prune import run as prune
from tests.passes.prune.cases import context, values_of

NO_TRAINING = ClusterConfig(finetune=FineTune(epochs=0))


@pytest.fixture(scope="module")
def sparse_cnn(cnn, train_split):
    """The small CNN with 70% of its weights zeroed (no fine-tuning)."""
    cfg = PruneConfig(method="unstructured", sparsity=0.7, scope="global", finetune=FineTune(epochs=0))
    return prune(cnn, cfg, context(cnn, train_split))


def _context(model, train_split, allowed_drop: float):
    ctx = context(model, train_split, images=1024)
    return replace(ctx, validation=train_split.take(1000, 50000), reference=model, allowed_drop=allowed_drop)


def _distinct(model: onnx.ModelProto) -> dict[str, int]:
    return {name: len(np.unique(w[w != 0])) for name, w in values_of(model).items() if w.ndim >= 2}


def test_config_takes_auto_or_a_number_of_bits():
    assert build_config(ClusterConfig, {"bits": "auto", "min_bits": 3}).bits == "auto"
    assert build_config(ClusterConfig, {"bits": 3}).bits == 3
    with pytest.raises(ValueError, match="bits must be a whole number or one of auto, not 'most'"):
        build_config(ClusterConfig, {"bits": "most"})
    with pytest.raises(ValueError, match="min_bits must be between 2 and max_bits, not 5"):
        build_config(ClusterConfig, {"bits": "auto", "min_bits": 5, "max_bits": 4})
    with pytest.raises(ValueError, match="max_bits must be between 2 and 8, not 9"):
        build_config(ClusterConfig, {"bits": "auto", "max_bits": 9})
    with pytest.raises(ValueError, match="budget_share must be above 0 and at most 1, not 0.0"):
        build_config(ClusterConfig, {"bits": "auto", "budget_share": 0})


def test_largest_layer_first(sparse_cnn):
    counts = {name: int(np.count_nonzero(w)) for name, w in values_of(sparse_cnn).items() if w.ndim >= 2}
    order = auto.largest_first(sparse_cnn)
    assert sorted(order) == sorted(counts) and [counts[n] for n in order] == sorted(counts.values(), reverse=True)


def test_each_trial_lowers_one_layer_one_bit_from_the_last_passing_model(sparse_cnn, train_split):
    ctx = _context(sparse_cnn, train_split, allowed_drop=2.5)  # this CNN (about 87%) loses ~1 pt at 5 bits untrained
    layers = auto.largest_first(sparse_cnn)
    calls = []

    def trial(start, bits):  # real k-means without fine-tuning: lower bits lose accuracy, deterministically
        out = shared(start, bits, NO_TRAINING, ctx, None)
        calls.append((start, bits, out))
        return out

    judge = heldout.Judge(sparse_cnn, ctx, ctx.validation, 1.0)
    best, bits, results = auto.search(sparse_cnn, trial, judge, layers, 5, 2, 7)
    assert calls[0][0] is sparse_cnn and calls[0][1] == dict.fromkeys(layers, 5) and results[0].within
    kept, start, failed = dict.fromkeys(layers, 5), calls[0][2], set()
    for (given, asked, out), result in zip(calls[1:], results[1:]):
        lowered = [name for name, b in asked.items() if b is not None]
        assert given is start and lowered == [result.lowered] and asked[result.lowered] == kept[result.lowered] - 1
        assert result.lowered == next(n for n in layers if n not in failed and kept[n] > 2)  # largest first
        unchanged = [n for n in layers if n != result.lowered]
        assert all(np.array_equal(values_of(out)[n], values_of(given)[n]) for n in unchanged)
        if result.within:
            kept, start = result.bits, out
        else:
            failed.add(result.lowered)
    assert len(results) == 8 and any(r.within for r in results[1:]) and not all(r.within for r in results)
    assert best is start and bits == kept
    assert all(n <= 2 ** bits[name] for name, n in _distinct(best).items())
    assert 100 * (judge.reference - heldout.accuracy(best, ctx, ctx.validation)) <= 2.5 + 1e-9


def test_no_room_in_the_budget_keeps_the_start(sparse_cnn, train_split):
    ctx = _context(sparse_cnn, train_split, allowed_drop=-1.0)  # nothing gains a point back without training
    cfg = replace(NO_TRAINING, bits="auto", max_bits=3)
    out = run(sparse_cnn, cfg, ctx)
    assert [n for n in ctx.notes if "trial" in n] == [ctx.notes[0]] and "kept" in ctx.notes[-1]
    start = shared(sparse_cnn, dict.fromkeys(_distinct(out), 3), cfg, ctx, None)
    assert out.SerializeToString() == start.SerializeToString()


def test_bits_auto_through_the_pass_with_a_little_training(sparse_cnn, train_split):
    ctx = _context(sparse_cnn, train_split, allowed_drop=4.0)
    cfg = ClusterConfig(bits="auto", max_bits=4, min_bits=2, trials=3,
                        finetune=FineTune(epochs=0.25, lr=2e-4, distill=True))
    out = run(sparse_cnn, cfg, ctx)
    onnx.checker.check_model(out, full_check=True)
    chose = ctx.notes[-1]
    assert chose.startswith("bits auto: chose") and len([n for n in ctx.notes if "trial" in n]) == 4
    bits = {name: int(b) for name, b in (part.split() for part in chose.split("chose ")[1].split(" bits")[0].split(", "))}
    assert all(n <= 2 ** bits[name] for name, n in _distinct(out).items())
    assert min(bits.values()) < 4  # four points of budget let this CNN drop a bit somewhere
    before, after = values_of(sparse_cnn), values_of(out)
    assert all(np.array_equal(after[n] == 0, before[n] == 0) for n in bits)  # pruned zeros stay zero


def test_bits_auto_needs_held_out_images(sparse_cnn, train_split):
    ctx = context(sparse_cnn, train_split, images=1024)  # no validation split and too few images to carve one
    with pytest.raises(PassError, match="bits auto needs more than 10,000 training images to hold some out; "
                                        "give a fixed bits instead"):
        run(sparse_cnn, replace(NO_TRAINING, bits="auto"), ctx)


def test_fixed_bits_ignore_the_auto_settings(sparse_cnn, train_split):
    ctx = context(sparse_cnn, train_split, images=512)
    cfg = ClusterConfig(bits=3, finetune=FineTune(epochs=0.25, lr=2e-4, distill=True))
    plain = run(sparse_cnn, cfg, ctx)
    other = run(sparse_cnn, replace(cfg, max_bits=6, min_bits=4, trials=1, budget_share=0.1), ctx)
    assert plain.SerializeToString() == other.SerializeToString() and ctx.notes == []
    assert all(n <= 8 for n in _distinct(plain).values())


def test_quantize_and_pack_keep_one_code_per_shared_value_with_bits_per_layer(sparse_cnn, train_split):
    ctx = context(sparse_cnn, train_split, images=256)
    bits = {"w1": 5, "w2": 2, "fc1": 3, "fc2": 4}
    sharing = shared(sparse_cnn, bits, NO_TRAINING, ctx, None)
    distinct = _distinct(sharing)
    assert all(distinct[name] <= 2 ** b for name, b in bits.items()) and len(set(distinct.values())) > 1
    int8 = quantize.run(sharing, quantize.QuantizeConfig(calibration_images=64, reduce_range=False), ctx)
    codes = {i.name: numpy_helper.to_array(i) for i in int8.graph.initializer if i.data_type == onnx.TensorProto.INT8}
    for name in bits:
        q = codes[f"{name}_quantized"]
        assert len(np.unique(q[q != 0])) == distinct[name]
    packed = pack.run(int8, pack.PackConfig(), ctx)
    assert packing.packed_weights(packed), ctx.notes
    for name, stored in packing.packed_weights(packed).items():
        assert len(stored.book) == distinct[name.removesuffix("_quantized")] + 1  # the zero, then one per value
    images = train_split.images[-200:]
    same = [inference.predict(inference.session(m), ctx.signature, images) for m in (int8, packed)]
    assert np.array_equal(*same)
