"""The strip pass: short names, no doc strings or extra metadata, the same answers and interface."""

from __future__ import annotations

import numpy as np
import onnx

from edgeshrink.core.signature import METADATA_KEY
from edgeshrink.passes import strip
from edgeshrink.passes.base import PassContext
from tests.passes.outputs import scores


def test_strip_keeps_answers_interface_and_signature(quantized_cnn, bn_cnn, train_split, test_split):
    _, signature = bn_cnn
    model = onnx.ModelProto()
    model.CopyFrom(quantized_cnn)
    model.metadata_props.add(key="training_log", value="x" * 500)
    model.doc_string = "made by a test"
    out = strip.run(model, strip.StripConfig(), PassContext(signature, train_split))
    onnx.checker.check_model(out, full_check=True)
    assert [i.name for i in out.graph.input] == [i.name for i in model.graph.input]
    assert [o.name for o in out.graph.output] == [o.name for o in model.graph.output]
    assert [p.key for p in out.metadata_props] == [METADATA_KEY]
    assert all(len(i.name) <= 2 for i in out.graph.initializer) and not out.doc_string
    assert out.ByteSize() < model.ByteSize() - 500
    images = test_split.images[:200]
    np.testing.assert_array_equal(scores(out, signature, images), scores(model, signature, images))
