"""What a detection reports: each trial's loss from the model's own scores (logits, probabilities,
log-probabilities, a class index), the margin that decided, and the sentence the user reads. Fast: hand-made
trials, and the nearest-centroid classifier of tests/test_evaluate.py on real training images."""

from __future__ import annotations

import numpy as np
from onnx import helper

from edgeshrink import detect, inference, model as model_io
from edgeshrink.signature import PRESETS
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

