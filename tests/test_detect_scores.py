"""What a detection reports: each trial's loss from the model's own scores (logits, probabilities,
log-probabilities, a class index), the margin that decided, the sentence the user reads, which output holds the
class scores and what structure() refuses, word for word. Fast: hand-made trials and graphs, and the
nearest-centroid classifier of tests/test_evaluate.py on real training images."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper, numpy_helper

from edgeshrink import detect, inference
from edgeshrink.core import model as model_io
from edgeshrink.core.signature import PRESETS
from edgeshrink.errors import ModelError
from tests.test_evaluate import SIG, centroid_model

T = detect.Trial


def _log_softmax(x):
    x = np.asarray(x, np.float64)
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def test_log_probabilities_of_logits_probabilities_and_log_probabilities():
    logits = np.array([[2.0, -1.0, 0.5] + [0.0] * 7, [-3.0] * 5 + [4.0] * 5], np.float32)
    want = _log_softmax(logits)
    np.testing.assert_allclose(detect.log_probabilities(logits, "logits"), want, rtol=0, atol=1e-12)
    # a log-softmax output is already normalised: it comes back as it is
    np.testing.assert_allclose(detect.log_probabilities(want, "log_probabilities"), want, rtol=0, atol=1e-12)
    # probabilities are renormalised (sigmoid outputs do not sum to 1) before the log
    sig = 1 / (1 + np.exp(-logits.astype(np.float64)))
    got = detect.log_probabilities(sig, "probabilities")
    np.testing.assert_allclose(got, np.log(sig / sig.sum(axis=1, keepdims=True)), rtol=0, atol=1e-12)
    # a zero probability is clipped to 1e-12 before the log, not -inf
    zero = np.array([[1.0] + [0.0] * 9])
    np.testing.assert_allclose(detect.log_probabilities(zero, "probabilities")[0, 1:],
                               np.log(1e-12) - np.log1p(9e-12), rtol=1e-12)
    # probabilities that are all zero: each becomes 1e-12, uniform after normalisation
    flat = detect.log_probabilities(np.zeros((1, 10)), "probabilities")
    np.testing.assert_allclose(flat, np.full((1, 10), -np.log(10)), rtol=1e-12)


def test_an_inf_or_nan_score_counts_as_certainly_wrong():
    scores = np.array([[np.nan, 1.0, np.inf] + [0.0] * 7, [-np.inf] + [0.0] * 9])
    got = detect.log_probabilities(scores, "logits")
    assert np.isfinite(got).all()
    clean = np.where(np.isfinite(scores), scores, -1e9)
    np.testing.assert_allclose(got, _log_softmax(clean), rtol=0, atol=1e-12)
    assert got[0, 0] < -1e8 and got[0, 2] < -1e8 and got[1, 0] < -1e8


def test_each_trial_is_the_accuracy_and_mean_loss_of_the_true_digit(train_split):
    model = centroid_model(train_split)
    tail = train_split.take(2000, start=len(train_split) - 2000)
    base = detect.structure(model)
    trial = detect.try_presets(model, base, tail.images, tail.labels)
    assert list(trial) == list(PRESETS)
    sess = inference.session(model)
    for name, pre in PRESETS.items():
        log_p = _log_softmax(inference.scores(sess, base.with_preprocess(pre), tail.images))
        assert trial[name].accuracy == float((log_p.argmax(1) == tail.labels).mean()), name
        loss = -log_p[np.arange(len(tail.labels)), tail.labels].mean()
        np.testing.assert_allclose(trial[name].loss, loss, rtol=1e-9, err_msg=name)
    assert trial["unit"].loss < trial["mnist"].loss and trial["unit"].loss < trial["raw"].loss


def test_a_class_index_output_is_tried_by_accuracy_alone(train_split):
    model = model_io.clone(centroid_model(train_split))
    model.graph.node.append(helper.make_node("ArgMax", ["logits"], ["digit"], axis=1, keepdims=0))
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info("digit", 7, ["N"]))  # INT64
    base = detect.structure(model)
    assert (base.output_kind, base.output_name) == ("class_index", "digit")
    tail = train_split.take(1000, start=len(train_split) - 1000)
    trial = detect.try_presets(model, base, tail.images, tail.labels)
    assert all(t.loss is None for t in trial.values())
    scores_of = centroid_model(train_split)
    sess = inference.session(scores_of)
    logits_base = detect.structure(scores_of)
    for name, pre in PRESETS.items():
        pred = inference.scores(sess, logits_base.with_preprocess(pre), tail.images).argmax(1)
        assert trial[name].accuracy == float((pred == tail.labels).mean()), name
    assert detect.choose(trial) == "unit"


def test_the_margin_names_the_measure_that_decided():
    assert detect.margin({"unit": T(0.9, 0.3)}, "unit") == "the only convention tried"
    by_loss = {"unit": T(0.95, 0.2), "mnist": T(0.96, 0.5), "raw": T(0.10, 0.4)}
    # the runner-up is the lowest loss among the others (raw 0.4), not the most accurate (mnist)
    assert detect.margin(by_loss, "unit") == "training loss 0.200 vs 0.400 for raw (2.00x)"
    assert detect.margin({"unit": T(0.9, 0.0), "raw": T(0.1, 0.5)}, "unit") == \
        "training loss 0.000 vs 0.500 for raw (infx)"
    by_accuracy = {"unit": T(0.9512, None), "mnist": T(0.9, None), "raw": T(0.95, None)}
    # the runner-up is the most accurate of the others (raw), the difference in points
    assert detect.margin(by_accuracy, "unit") == "+0.12 pt accuracy over raw"
    assert detect.margin(by_accuracy, "mnist") == "-5.12 pt accuracy over unit"


def test_the_summary_sentence():
    trial = {"unit": T(0.9512, 0.2), "mnist": T(0.95, 0.5), "raw": T(0.1, 2.3)}
    sig = SIG
    found = detect.Detection(sig, "detected", trial)
    assert found.summary() == (
        "preprocessing detected on 5,000 training images: unit, training loss 0.200 vs 0.500 for mnist (2.50x) "
        "(tried unit 95.12% loss 0.200, mnist 95.00% loss 0.500, raw 10.00% loss 2.300)")
    index = detect.Detection(sig.with_preprocess(PRESETS["raw"]), "detected",
                             {"unit": T(0.5, None), "raw": T(0.875, None)})
    assert index.summary() == ("preprocessing detected on 5,000 training images: raw, +37.50 pt accuracy over "
                               "unit (tried unit 50.00%, raw 87.50%)")



def test_probabilities_are_renormalised_per_row_before_the_floor():
    # row sums 4 and 0.5: the zero entries sit at the 1e-12 floor of the *renormalised* probabilities
    scores = np.array([[2.0, 0, 1, 1] + [0] * 6, [0.5] + [0] * 9])
    got = detect.log_probabilities(scores, "probabilities")
    np.testing.assert_allclose(got[0, [1, 4]], np.log(1e-12) - np.log1p(7e-12), rtol=1e-12)
    np.testing.assert_allclose(got[0, [0, 2]], np.log([0.5, 0.25]) - np.log1p(7e-12), rtol=1e-12)
    np.testing.assert_allclose(got[1, 1:], np.log(1e-12) - np.log1p(9e-12), rtol=1e-12)


def test_a_softmax_output_is_tried_as_probabilities(train_split):
    model = model_io.clone(centroid_model(train_split))
    model.graph.node[-1].output[0] = "raw_logits"
    model.graph.node.append(helper.make_node("Softmax", ["raw_logits"], ["logits"], axis=1))
    base = detect.structure(model)
    assert base.output_kind == "probabilities"
    tail = train_split.take(1000, start=len(train_split) - 1000)
    trial = detect.try_presets(model, base, tail.images, tail.labels)
    sess = inference.session(model)
    for name, pre in PRESETS.items():
        p = inference.scores(sess, base.with_preprocess(pre), tail.images).astype(np.float64)
        log_p = np.log(np.clip(p / p.sum(1, keepdims=True), 1e-12, None))
        loss = -(log_p - np.log(np.exp(log_p).sum(1, keepdims=True)))[np.arange(1000), tail.labels].mean()
        np.testing.assert_allclose(trial[name].loss, loss, rtol=1e-9, err_msg=name)
    log_model = model_io.clone(model)
    log_model.graph.node[-1].op_type = "LogSoftmax"
    assert detect.structure(log_model).output_kind == "log_probabilities"


def test_the_margin_by_accuracy_picks_the_most_accurate_runner_up_not_the_last_name():
    trial = {"mnist": T(0.9, None), "unit": T(0.5, None), "raw": T(0.95, None)}
    assert detect.margin(trial, "raw") == "+5.00 pt accuracy over mnist"


def _model_with(inputs, outputs, nodes=None, inits=None):
    from onnx import TensorProto

    g = helper.make_graph(nodes or [helper.make_node("Identity", [inputs[0][0]], [outputs[0][0]])], "m",
                          [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs], inits or [])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def test_the_class_scores_are_the_first_output_of_10_with_only_ones_between():
    from onnx import TensorProto

    f = TensorProto.FLOAT
    nodes = [helper.make_node("Identity", ["x"], ["per_row"]), helper.make_node("Identity", ["x"], ["scores"])]
    model = _model_with([("x", f, ["N", 1, 28, 28])], [("per_row", ["N", 3, 10]), ("scores", ["N", 1, 10])], nodes)
    sig = detect.structure(model)
    assert (sig.output_index, sig.output_name, sig.output_kind) == (1, "scores", "logits")
    assert sig.preprocess == PRESETS["unit"]  # a placeholder until detect() decides


def test_what_structure_refuses_names_what_it_found():
    from onnx import TensorProto

    f = TensorProto.FLOAT
    no_scores = _model_with([("x", f, ["N", 784])], [("a", ["N", 5]), ("b", [3])],
                            [helper.make_node("Identity", ["x"], ["a"]), helper.make_node("Identity", ["x"], ["b"])])
    with pytest.raises(ModelError) as err:
        detect.structure(no_scores)
    assert str(err.value) == ("no output holds 10 class scores (outputs: a[None, 5], b[3]); "
                              "edgeshrink needs a 10-class MNIST classifier")
    with pytest.raises(ModelError) as err:
        detect.structure(_model_with([("img", TensorProto.INT32, ["N", 784])], [("y", ["N", 10])]))
    assert str(err.value) == ("input 'img' has element type INT32; "
                              "edgeshrink feeds float32, float64, float16 or uint8 pixels")
    with pytest.raises(ModelError) as err:
        detect.structure(_model_with([("img", f, ["N", 3, 32, 32])], [("y", ["N", 10])]))
    assert str(err.value) == (
        "input 'img' has shape ['?', 3, 32, 32], which cannot hold a 28x28 digit; edgeshrink takes MNIST "
        "classifiers with inputs like (N,1,28,28), (N,784), (N,28,28) or (N,28,28,1)")
    const = helper.make_node("Constant", [], ["y"], value=numpy_helper.from_array(np.zeros((1, 10), np.float32)))
    with pytest.raises(ModelError) as err:
        detect.structure(_model_with([], [("y", [1, 10])], [const]))
    assert str(err.value) == "model has 0 inputs (none); an MNIST classifier takes one image input"


def test_a_batch_dimension_written_as_0_is_dynamic_and_one_rgb_image_is_nhwc3():
    from onnx import TensorProto

    f = TensorProto.FLOAT
    zero = detect.structure(_model_with([("x", f, [0, 1, 28, 28])], [("y", [0, 10])]))
    assert (zero.layout, zero.batch) == ("NCHW", None)  # not 0, which means "no batch dimension"
    rgb = detect.structure(_model_with([("x", f, [28, 28, 3])], [("y", [10])]))
    assert (rgb.layout, rgb.batch) == ("NHWC3", 0)


def test_an_explicit_or_dtype_choice_has_no_trial(train_split):
    model = centroid_model(train_split)
    by_option = detect.detect(model, PRESETS["mnist"])
    assert by_option.trial == {} and by_option.source == "option"
    from tests.models import linear_classifier

    by_dtype = detect.detect(linear_classifier(("N", 784), dtype=2))
    assert by_dtype.trial == {} and by_dtype.source == "input dtype"
    with pytest.raises(ValueError) as err:
        detect.detect(model)
    assert str(err.value) == "detect() needs training_images when the preprocessing is unknown"
