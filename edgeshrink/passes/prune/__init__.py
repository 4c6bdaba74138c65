"""The prune pass: `prune.py` runs the rounds; `structured.py` (with `walk.py` and `surgery.py`) cuts
channels, `unstructured.py` zeroes weights; `edgeshrink.finetune` trains after each round."""

from edgeshrink.passes.prune.config import MAX_SPARSITY, PruneConfig, kept_share
from edgeshrink.passes.prune.prune import SPEC, run

__all__ = ["MAX_SPARSITY", "PruneConfig", "SPEC", "kept_share", "run"]
