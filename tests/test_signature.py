"""The Signature: exact pixel arithmetic of each preprocessing, each layout's shape and channel order, how
answers are read from outputs, and the metadata round trip."""

from __future__ import annotations

import numpy as np
import pytest

from edgeshrink.core.signature import LAYOUTS, PRESETS, Preprocess, Signature, eval_fraction
from edgeshrink.errors import ModelError

PIXELS = np.array([[[0, 255], [51, 128]]], np.uint8).repeat(14, 1).repeat(14, 2)  # (1, 28, 28)


def test_presets_are_the_published_conventions():
    assert PRESETS == {"unit": Preprocess(1 / 255, 0.0, 1.0), "mnist": Preprocess(1 / 255, 0.1307, 0.3081),
                       "symmetric": Preprocess(1 / 255, 0.5, 0.5), "raw": Preprocess(1.0, 0.0, 1.0)}
    assert Preprocess() == PRESETS["unit"]


@pytest.mark.parametrize("name, values", [
    ("unit", [0.0, 1.0, 0.2, 128 / 255]),
    ("mnist", [-0.1307 / 0.3081, (1 - 0.1307) / 0.3081, (0.2 - 0.1307) / 0.3081, (128 / 255 - 0.1307) / 0.3081]),
    ("symmetric", [-1.0, 1.0, -0.6, (128 / 255 - 0.5) / 0.5]),
    ("raw", [0.0, 255.0, 51.0, 128.0]),
])
def test_apply_is_pixel_times_scale_minus_mean_over_std(name, values):
    out = PRESETS[name].apply(np.array([0, 255, 51, 128], np.uint8))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, values, rtol=0, atol=1e-12)


def test_names_of_presets_and_custom_preprocessing():
    assert [p.name for p in PRESETS.values()] == list(PRESETS)
    assert Preprocess(1 / 255, 0.1307 + 5e-6, 0.3081).name == "scale=0.00392157,mean=0.130705,std=0.3081"
    assert Preprocess(1 / 255, 0.1307 + 5e-7, 0.3081).name == "mnist"  # within a millionth: the preset
    assert Preprocess(2.0, 0.25, 4.0).name == "scale=2,mean=0.25,std=4"


def test_parse_names_fractions_and_separators():
    assert Preprocess.parse("raw") is PRESETS["raw"]
    assert Preprocess.parse("scale=1/255;mean=0.5;std=0.5") == Preprocess(1 / 255, 0.5, 0.5)
    assert Preprocess.parse("scale=2, mean=1,std=4,") == Preprocess(2.0, 1.0, 4.0)
    assert Preprocess.parse("mean=0.5") == Preprocess(1 / 255, 0.5, 1.0)
    assert eval_fraction(" 1/255 ") == 1 / 255 and eval_fraction("0.5") == 0.5 and eval_fraction("3/4") == 0.75
    for bad in ("scale", "scale=a/b", "gain=2", "unit8"):
        with pytest.raises(ModelError, match=rf"cannot read preprocessing '{bad}'; use one of unit, mnist, symmetric, raw"):
            Preprocess.parse(bad)


def sig(layout="NCHW", batch=None, dtype="float32", preprocess="unit", **kw) -> Signature:
    return Signature("x", layout, batch, dtype, PRESETS[preprocess], **kw)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_feed_shapes_per_layout_and_batch(layout):
    two = PIXELS.repeat(2, 0)
    assert sig(layout).feed(two).shape == (2, *LAYOUTS[layout])
    assert sig(layout, batch=0).feed(PIXELS).shape == LAYOUTS[layout]
    assert sig(layout).input_shape(5) == (5, *LAYOUTS[layout]) and sig(layout, batch=0).input_shape(5) == LAYOUTS[layout]


def test_feed_values_and_channel_placement():
    x = sig("NCHW").feed(PIXELS)
    assert x.dtype == np.float32 and x[0, 0, 0, 0] == 0.0 and x[0, 0, 0, 14] == 1.0
    assert x.flags["C_CONTIGUOUS"]
    chw3 = sig("NCHW3").feed(PIXELS)
    assert all(np.array_equal(chw3[0, c], x[0, 0]) for c in range(3))
    hwc3 = sig("NHWC3").feed(PIXELS)
    assert all(np.array_equal(hwc3[0, :, :, c], x[0, 0]) for c in range(3))
    flat = sig("N784").feed(PIXELS)
    assert np.array_equal(flat[0], x.reshape(-1))
    assert sig(dtype="float64").feed(PIXELS).dtype == np.float64 and sig(dtype="float16").feed(PIXELS).dtype == np.float16


def test_uint8_inputs_get_the_raw_pixels_whatever_the_preprocessing():
    x = sig("NHWC", dtype="uint8", preprocess="mnist").feed(PIXELS)
    assert x.dtype == np.uint8 and np.array_equal(x[0, :, :, 0], PIXELS[0])


def test_chunks_are_1000_images_for_dynamic_batches_and_the_batch_otherwise():
    assert sig(batch=None).chunk == 1000 and sig(batch=10).chunk == 10 and sig(batch=0).chunk == 1 and sig(batch=1).chunk == 1


def test_classes_and_scores_from_outputs():
    scores = np.array([[0.1, 0.9] + [0] * 8, [5, 1] + [0] * 8, [0] * 9 + [3]], np.float32)
    other = np.zeros((3, 4))
    s = sig(output_index=1)
    assert s.classes([other, scores], 3).tolist() == [1, 0, 9]
    assert s.classes([other, scores], 2).tolist() == [1, 0]  # padding of a fixed batch dropped
    np.testing.assert_array_equal(s.scores([other, scores], 2), scores[:2])
    index = sig(output_kind="class_index")
    answer = index.classes([np.array([[7], [2], [4]], np.int32)], 2)
    assert answer.tolist() == [7, 2] and answer.dtype == np.int64
    assert sig().classes([scores.reshape(-1)], 3).tolist() == [1, 0, 9]  # a 1-D output of one or more images


def test_signature_json_round_trip():
    s = Signature("in", "NHWC3", 4, "float16", Preprocess(0.5, 0.25, 2.0), 1, "probabilities", "probs")
    assert Signature.from_json(s.to_json()) == s
    assert s.with_preprocess(PRESETS["raw"]) == Signature("in", "NHWC3", 4, "float16", PRESETS["raw"], 1,
                                                          "probabilities", "probs")
    assert '"layout": "NHWC3"' in s.to_json() and s.to_json().index('"batch"') < s.to_json().index('"dtype"')


def test_preprocessing_that_erases_every_pixel_is_refused_word_for_word():
    tail = ("every pixel would become the same or not a number; scale and std must be finite and non-zero, "
            "e.g. 'scale=1/255,mean=0.1307,std=0.3081'")
    with pytest.raises(ModelError) as caught:
        Preprocess.parse("scale=0,mean=nan,std=0")
    assert str(caught.value) == f"preprocessing 'scale=0,mean=nan,std=0' has mean=nan, scale=0, std=0: {tail}"
    with pytest.raises(ModelError) as caught:
        Preprocess(1.0, float("inf"), 1.0).checked()
    assert str(caught.value) == f"preprocessing 'scale=1,mean=inf,std=1' has mean=inf: {tail}"
    assert PRESETS["mnist"].checked("mnist") is PRESETS["mnist"]


def test_unreadable_preprocessing_is_refused_word_for_word():
    with pytest.raises(ModelError) as caught:
        Preprocess.parse("gain=2")
    assert str(caught.value) == ("cannot read preprocessing 'gain=2'; use one of unit, mnist, symmetric, raw "
                                 "or 'scale=1/255,mean=0.1307,std=0.3081'")


def test_stored_signatures_are_byte_stable():
    """Sorted keys: the same signature always writes the same metadata, so re-saved models are identical."""
    assert sig().to_json().startswith('{"batch": null, "dtype": "float32", "input_name": "x", "layout": "NCHW", ')


def test_the_refusal_quotes_the_users_own_spelling():
    with pytest.raises(ModelError, match=r"^preprocessing 'scale=0, mean=0, std=1' has scale=0: "):
        Preprocess.parse("scale=0, mean=0, std=1")
