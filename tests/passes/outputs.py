"""What the pass tests compare: a model's class scores and its input's dimensions."""

from edgeshrink import inference
from edgeshrink.core.model import graph_inputs


def scores(model, signature, images):
    return inference.scores(inference.session(model, threads=1), signature, images)


def input_dims(model):
    return [(d.dim_value, d.dim_param) for d in graph_inputs(model)[0].type.tensor_type.shape.dim]
