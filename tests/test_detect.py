import numpy as np
import pytest

from edgeshrink import api, detect
from edgeshrink.core import model as model_io
from edgeshrink.core.signature import LAYOUTS, PRESETS, Preprocess, Signature
from edgeshrink.errors import ModelError
from tests.models import linear_classifier, save
from tests.peers import peer_names, peer_path, peer_row, peer_rows


@pytest.mark.parametrize("name", peer_names())
def test_peer_accuracy_matches_manifest_without_hints(name, mnist_dir):
    """Published accuracies have four decimals: the count of correct test images is known exactly."""
    row = peer_row(name)
    result = api.evaluate_file(peer_path(name), latency=False)
    assert result.total == 10_000 and result.correct == round(10_000 * float(row["test_accuracy"])), result.notes
    assert result.accuracy == result.correct / 10_000
    assert result.params_total == int(row["params"])
    measured = dict(part.split("=") for part in row["preprocess"].split(";"))
    expected = Preprocess.parse(",".join(f"{k}={measured[k]}" for k in ("scale", "mean", "std")))
    assert result.signature.preprocess.name == expected.name, result.notes


def test_peers_manifest_is_present_or_skipped(peers_dir):
    assert len(peer_rows()) == 9


@pytest.mark.parametrize("shape,layout,batch", [
    (("N", 1, 28, 28), "NCHW", None), ((1, 784), "N784", 1), (("N", 28, 28), "NHW", None),
    ((4, 28, 28, 1), "NHWC", 4), ((1, 28, 28), "NHW", 1), ((28, 28), "NHW", 0), ((784,), "N784", 0),
    (("N", 3, 28, 28), "NCHW3", None), ((3, 28, 28), "NCHW3", 0),
])
def test_layout_and_batch_from_input_shape(shape, layout, batch):
    sig = detect.structure(linear_classifier(shape))
    assert (sig.layout, sig.batch) == (layout, batch)


def test_feed_shapes_three_channels_and_dtypes(test_split):
    pixels = test_split.images[:2]
    sig = Signature("x", "NCHW3", None, "float32", PRESETS["mnist"])
    x = sig.feed(pixels)
    assert x.shape == (2, 3, 28, 28) and np.array_equal(x[:, 0], x[:, 2])
    assert np.isclose(x[0, 0, 0, 0], -0.1307 / 0.3081, atol=1e-6)
    raw = Signature("x", "NHWC", 0, "uint8", PRESETS["raw"]).feed(pixels[:1])
    assert raw.shape == (28, 28, 1) and raw.dtype == np.uint8
    for layout, image in LAYOUTS.items():
        assert Signature("x", layout, None, "float64", PRESETS["unit"]).feed(pixels).shape == (2, *image)


def test_preprocess_parse():
    assert Preprocess.parse("symmetric") == PRESETS["symmetric"]
    assert Preprocess.parse("scale=1/255,mean=0.1307,std=0.3081").name == "mnist"
    with pytest.raises(ModelError, match="cannot read preprocessing 'bogus'"):
        Preprocess.parse("bogus")


def test_uint8_input_means_raw_pixels():
    found = detect.detect(linear_classifier(("N", 784), dtype=2))
    assert found.signature.preprocess == PRESETS["raw"] and found.source == "input dtype"


def test_signature_round_trips_through_metadata():
    sig = Signature("x0", "N784", None, "float32", PRESETS["symmetric"], 0, "logits", "y0")
    stored = model_io.with_signature(linear_classifier(), sig)
    assert model_io.stored_signature(stored) == sig
    assert detect.detect(stored).source == "metadata"


def test_not_onnx_file_is_refused(tmp_path):
    bad = tmp_path / "weights.onnx"
    bad.write_bytes(b"this is not a protobuf at all \x00\xff" * 10)
    with pytest.raises(ModelError, match="is not an ONNX model"):
        model_io.load(bad)
    with pytest.raises(ModelError, match="does not exist"):
        model_io.load(tmp_path / "missing.onnx")


def test_input_that_cannot_hold_a_digit(tmp_path):
    path = save(linear_classifier(("N", 3, 32, 32)), tmp_path / "cifar.onnx")
    with pytest.raises(ModelError, match=r"shape \['\?', 3, 32, 32\], which cannot hold a 28x28 digit"):
        api.open_model(path)


def test_model_with_seven_outputs(tmp_path):
    path = save(linear_classifier(outputs=7, classes=7), tmp_path / "seven.onnx")
    with pytest.raises(ModelError, match="no output holds 10 class scores"):
        api.open_model(path)


def test_model_with_two_image_inputs(tmp_path):
    path = save(linear_classifier(inputs=2), tmp_path / "two.onnx")
    with pytest.raises(ModelError, match="model has 2 inputs \\(x0, x1\\)"):
        api.open_model(path)


@pytest.mark.parametrize("op,kind", [(None, "logits"), ("Softmax", "probabilities"), ("Sigmoid", "probabilities"),
                                     ("LogSoftmax", "log_probabilities"), ("ArgMax", "class_index")])
def test_output_kinds_are_detected_and_score_alike(small_cnn, op, kind):
    import onnx
    from onnx import helper

    proto = model_io.load(small_cnn)
    reference = api.evaluate_file(small_cnn, latency=False).accuracy
    if op is not None:
        out = proto.graph.output[0]
        attrs = {"axis": 1, "keepdims": 0} if op == "ArgMax" else ({"axis": 1} if op != "Sigmoid" else {})
        proto.graph.node.append(helper.make_node(op, [out.name], ["answer"], **attrs))
        elem = onnx.TensorProto.INT64 if op == "ArgMax" else onnx.TensorProto.FLOAT
        shape = ["batch"] if op == "ArgMax" else ["batch", 10]
        proto.graph.output.pop()
        proto.graph.output.append(helper.make_tensor_value_info("answer", elem, shape))
    assert detect.structure(proto).output_kind == kind
    path = save(proto, small_cnn.with_name(f"wrapped_{kind}_{op}.onnx"))
    assert api.evaluate_file(path, latency=False).accuracy == reference


def test_detection_picks_the_convention_the_model_was_trained_with(small_cnn, tmp_path):
    """zoo8 trains on MNIST mean/std pixels; without its metadata the trial must find that, by the loss."""
    proto = model_io.load(small_cnn)
    keep = [p for p in proto.metadata_props if p.key != "edgeshrink.signature"]
    del proto.metadata_props[:]
    proto.metadata_props.extend(keep)
    path = save(proto, tmp_path / "no-metadata.onnx")
    found = api.open_model(path).detection
    assert found.source == "detected" and found.signature.preprocess.name == "mnist"
    mnist, unit = found.trial["mnist"], found.trial["unit"]
    assert mnist.loss < unit.loss / detect.LOSS_FACTOR  # a measured difference, not a tie broken by habit
    assert f"training loss {mnist.loss:.3f}" in found.summary() and "unit" in found.summary()


@pytest.mark.parametrize("accuracies,losses,chosen", [
    ({"unit": 0.990, "mnist": 0.991}, {"unit": 0.040, "mnist": 0.020}, "mnist"),  # same accuracy, half the loss
    ({"unit": 0.990, "mnist": 0.991}, {"unit": 0.022, "mnist": 0.020}, "unit"),  # within LOSS_FACTOR: the common one
    ({"unit": 0.950, "mnist": 0.990}, {"unit": 0.010, "mnist": 0.050}, "mnist"),  # accuracy beyond noise decides
])
def test_choose_keeps_measured_differences(accuracies, losses, chosen):
    trial = {name: detect.Trial(accuracies[name], losses[name]) for name in accuracies}
    assert detect.choose(trial) == chosen
