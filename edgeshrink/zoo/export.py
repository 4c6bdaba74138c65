"""Export a trained network to ONNX with its signature recorded, and save its PyTorch checkpoint."""

from __future__ import annotations

import copy
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import onnx

from edgeshrink.atomic import atomic_path
from edgeshrink.core import model as model_io
from edgeshrink.core.signature import PRESETS, Signature
from edgeshrink.errors import EdgeshrinkError, ModelError
from edgeshrink.zoo import registry
from edgeshrink.zoo.config import TrainConfig
from edgeshrink.zoo.train import TrainResult

if TYPE_CHECKING:
    from torch import nn

ARCH_KEY = "edgeshrink.arch"
OPSET = 17
SIGNATURE = Signature(
    input_name="input", layout="NCHW", batch=None, dtype="float32", preprocess=PRESETS["mnist"],
    output_index=0, output_kind="logits", output_name="logits",
)


@dataclass(frozen=True)
class Checkpoint:
    """A network restored from a checkpoint, with the architecture and settings that trained it."""

    arch: str
    config: TrainConfig | None
    module: "nn.Module"


def export(trained: TrainResult | "nn.Module", onnx_path: str | os.PathLike,
           checkpoint_path: str | os.PathLike | None = None, *, arch: str | None = None) -> onnx.ModelProto:
    """Write `onnx_path` (dynamic batch, signature in metadata) and the checkpoint beside it.

    `trained` is a TrainResult, or a bare module together with `arch`. The checkpoint defaults
    to `onnx_path` with the suffix `.pt`. Returns the exported ONNX model.
    """
    if isinstance(trained, TrainResult):
        module, arch, config = trained.module, trained.arch, trained.config
    elif arch is None:
        raise ValueError("exporting a bare module needs arch=NAME")
    else:
        module, config = trained, None
    registry.parse(arch)
    module = copy.deepcopy(module).eval()  # the caller's module keeps its mode
    proto = to_onnx(module, arch)
    model_io.save(proto, onnx_path)
    save_checkpoint(module, arch, config, checkpoint_path or Path(onnx_path).with_suffix(".pt"))
    return proto


def to_onnx(module: "nn.Module", arch: str) -> onnx.ModelProto:
    """The module (in eval mode, so BatchNorm folds into the convolutions) as a checked ONNX model."""
    import torch

    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated but gives the cleanest graph
            torch.onnx.export(
                module, (torch.zeros(1, 1, 28, 28),), buffer, dynamo=False, opset_version=OPSET,
                input_names=[SIGNATURE.input_name], output_names=[SIGNATURE.output_name],
                dynamic_axes={SIGNATURE.input_name: {0: "batch"}, SIGNATURE.output_name: {0: "batch"}},
                do_constant_folding=True,
            )
    except Exception as exc:  # torch raises many unrelated types from inside the exporter
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EdgeshrinkError(f"exporting {arch} to ONNX failed: {first}; report this as a bug") from exc
    proto = model_io.with_signature(onnx.load_from_string(buffer.getvalue()), SIGNATURE)
    proto.metadata_props.add(key=ARCH_KEY, value=arch)
    onnx.checker.check_model(proto)
    return proto


def save_checkpoint(module: "nn.Module", arch: str, config: TrainConfig | None,
                    path: str | os.PathLike) -> Path:
    """Save state_dict, arch name and training config (plain types, loadable with weights_only)."""
    import torch

    payload = {
        "arch": arch,
        "state_dict": module.state_dict(),
        "config": config.to_dict() if config else None,
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Rebuild the network saved by `export` or `save_checkpoint`, in eval mode."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"checkpoint {path} does not exist; check the path")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        arch = payload["arch"]
        module = registry.build(arch)
        module.load_state_dict(payload["state_dict"])
    except EdgeshrinkError:
        raise
    except Exception as exc:  # pickle, zip and key errors: the file is not our checkpoint
        raise ModelError(f"{path} is not an edgeshrink checkpoint ({type(exc).__name__}); "
                         "pass the .pt file written by 'edgeshrink train'") from exc
    config = TrainConfig(**payload["config"]) if payload.get("config") else None
    return Checkpoint(arch=arch, config=config, module=module.eval())


def exported(path: str | os.PathLike) -> bool:
    """Whether `path` is a model or checkpoint `export` wrote (so a new training run may replace it)."""
    try:
        if Path(path).suffix == ".pt":
            import torch

            payload = torch.load(path, map_location="cpu", weights_only=True)
            return isinstance(payload, dict) and {"arch", "state_dict"} <= payload.keys()
        proto = onnx.load(str(path), load_external_data=False)
        return any(prop.key == ARCH_KEY for prop in proto.metadata_props)
    except Exception:  # unreadable, not ONNX, not a checkpoint: someone else's file
        return False
