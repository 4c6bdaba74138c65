"""How the preprocessing is chosen: an explicit choice, then the model's metadata, then the input dtype, then a
trial of each convention on the last 5,000 *training* images; fast, on nearest-centroid classifiers."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper, numpy_helper

from edgeshrink import detect, inference
from edgeshrink.core import model as model_io
from edgeshrink.core.signature import PRESETS
from edgeshrink.data import Split
from tests.test_evaluate import centroid_model


def _raw_expecting(model):
    """The centroid model behind a Mul by 1/255: it expects raw 0..255 pixels."""
    out = model_io.clone(model)
    for node in out.graph.node:
        if node.input[0] == "image":
            node.input[0] = "scaled"
    out.graph.node.insert(0, helper.make_node("Mul", ["image", "k"], ["scaled"]))
    out.graph.initializer.append(numpy_helper.from_array(np.array(1 / 255, np.float32), "k"))
    return out


def never():
    raise AssertionError("the training images were loaded although the preprocessing was known")


def test_a_trial_on_the_last_5000_training_images_finds_the_convention(train_split):
    model = centroid_model(train_split)
    garbage = Split(np.zeros((700, 28, 28), np.uint8), np.full(700, 3, np.uint8))
    tail = train_split.take(5000, start=len(train_split) - 5000)
    loaded = []

    def images():
        loaded.append(True)
        return Split(np.concatenate([garbage.images, tail.images]), np.concatenate([garbage.labels, tail.labels]))

    found = detect.detect(model, training_images=images)
    assert found.source == "detected" and found.signature.preprocess == PRESETS["unit"] and loaded == [True]
    assert list(found.trial) == list(PRESETS)
    sess = inference.session(model)
    for name, preset in PRESETS.items():  # measured on exactly the last 5,000 images
        expected = inference.accuracy(sess, found.signature.with_preprocess(preset), tail.images, tail.labels)
        assert found.trial[name].accuracy == expected, name
    assert found.trial["unit"].accuracy > found.trial["raw"].accuracy + 0.1
    raw = detect.detect(_raw_expecting(model), training_images=images)
    assert raw.signature.preprocess == PRESETS["raw"] and raw.trial["raw"].accuracy == found.trial["unit"].accuracy


def test_choose_by_accuracy_first_then_loss_with_a_preference_for_the_common_convention():
    T = detect.Trial
    assert detect.LOSS_FACTOR == 1.25 and detect.DETECTION_IMAGES == 5000
    assert detect.choose({"unit": T(0.90, 0.1), "raw": T(0.95, 0.3)}) == "raw"  # far below in accuracy: out
    noise = 2 * (0.95 * 0.05 / 5000) ** 0.5
    edge = {"unit": T(0.95 - noise, 0.3), "mnist": T(0.95, 0.3)}
    assert detect.choose(edge) == "unit"  # exactly two standard errors below: still in, and more common
    assert detect.choose({"unit": T(0.95 - noise - 1e-4, 0.3), "mnist": T(0.95, 0.3)}) == "mnist"
    assert detect.choose({"unit": T(0.950, 0.375), "mnist": T(0.951, 0.30)}) == "unit"  # within 1.25x: common wins
    assert detect.choose({"unit": T(0.950, 0.376), "mnist": T(0.951, 0.30)}) == "mnist"  # a clearly lower loss
    assert detect.choose({"unit": T(0.950, None), "mnist": T(0.951, None)}) == "unit"  # class index: no loss


def test_option_then_metadata_then_dtype_before_any_trial(train_split):
    model = centroid_model(train_split)
    stored = model_io.with_signature(model, detect.structure(model).with_preprocess(PRESETS["symmetric"]))
    by_meta = detect.detect(stored, training_images=never)
    assert (by_meta.source, by_meta.signature.preprocess, by_meta.trial) == ("metadata", PRESETS["symmetric"], {})
    by_option = detect.detect(stored, PRESETS["mnist"], training_images=never)
    assert (by_option.source, by_option.signature.preprocess) == ("option", PRESETS["mnist"])
    with pytest.raises(ValueError, match="detect\\(\\) needs training_images when the preprocessing is unknown"):
        detect.detect(model)
