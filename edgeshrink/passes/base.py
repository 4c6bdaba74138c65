"""What every pass shares: the context it runs in, its registration (PassSpec), and the check that a tool kept
its interface. How its config is declared and built: `edgeshrink.params`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import onnx

from edgeshrink.core.model import graph_inputs
from edgeshrink.core.signature import Signature
from edgeshrink.data import Split
from edgeshrink.errors import PassError
from edgeshrink.progress import Track, no_progress


@dataclass
class PassContext:
    """What a pass may use besides the model: how to feed it, training images, a progress reporter.

    Passes use only `train` (never the test set) for calibration and fine-tuning. A pass that searches
    (prune's `sparsity: auto`) checks candidates on `validation`, training images held out of `train`,
    against `reference` (the run's input model), losing at most `allowed_drop` points.
    """

    signature: Signature
    train: Split
    track: Track = no_progress
    seed: int = 0
    notes: list[str] = field(default_factory=list)  # what a pass wants the report to say (e.g. a skip)
    validation: Split | None = None
    reference: onnx.ModelProto | None = None
    allowed_drop: float | None = None  # percentage points against `reference` on `validation`


@dataclass(frozen=True)
class PassSpec:
    """A registered pass: its recipe name, config type, run function, and what recipe validation must
    know about it."""

    name: str
    config: type
    run: Callable[[onnx.ModelProto, Any, PassContext], onnx.ModelProto]
    summary: str
    quantizes: bool = False  # produces int8 weights: nothing that refolds floats may follow it
    float_only: bool = False  # works on float weights only: it would unfold or break int8 ones
    shares: bool = False  # leaves each layer a few shared weight values (cluster)
    reweights: bool = False  # changes weight values (training, folding): would undo an earlier sharing
    # float_only, but worth trying on an int8 input: the pipeline keeps its model only if no int8 weight
    # came out as float again (graph clean-ups that may also fold a DequantizeLinear)
    tried_on_int8: bool = False
    last: bool = False  # stores the weights in a form other passes cannot read: the recipe's last step


def restore_interface(out: onnx.ModelProto, original: onnx.ModelProto, tool: str, name: str) -> onnx.ModelProto:
    """Give `out` the original's metadata (the signature, not the tool's bookkeeping) and check that
    `tool` kept the input and output names, which the pipeline, the manifest and the page rely on."""
    del out.metadata_props[:]
    out.metadata_props.extend(original.metadata_props)
    before = ([i.name for i in graph_inputs(original)], [o.name for o in original.graph.output])
    after = ([i.name for i in graph_inputs(out)], [o.name for o in out.graph.output])
    if before != after:
        raise PassError(f"{tool} renamed the inputs or outputs of {name} ({before} -> {after})")
    return out
