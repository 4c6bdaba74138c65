"""What a search starts from: the input model (with its signature) and each architecture trained once, in the
output's bases/ folder."""

from __future__ import annotations

from pathlib import Path

from edgeshrink.core import model as model_io
from edgeshrink.search.study.space import INPUT_ARCH, Space

BASES = "bases"


def prepare_bases(opened, space: Space, output: Path, opts, data_dir, track) -> dict:
    """arch -> (model path, signature) for every starting model: the input model as `api.open_model` opened it
    (None without one), and each architecture trained once."""
    bases = {}
    folder = output / BASES
    if opened:
        signature = opened.detection.signature
        proto, path = model_io.with_signature(opened.model, signature), folder / "input.onnx"
        if not path.is_file() or path.read_bytes() != proto.SerializeToString():  # kept when it is the same
            model_io.save(proto, path)
        bases[INPUT_ARCH] = (str(path), signature)
    for arch in space.archs:
        if arch != INPUT_ARCH:
            bases[arch] = _trained(arch, folder, space.train_images, opts.arch_epochs, data_dir, track)
    return bases


def _trained(arch: str, folder: Path, train_images: int, epochs: int | None, data_dir, track):
    """The architecture trained once (its defaults, or `epochs`) on the search's training images only (cached)."""
    from dataclasses import replace

    from edgeshrink import data as mnist
    from edgeshrink import zoo

    cfg = zoo.default_config(arch) if epochs is None else replace(zoo.default_config(arch), epochs=epochs)
    path = folder / f"{arch}-{cfg.epochs}ep.onnx"  # arch is NAME or NAME@W: one cached model per width
    if not path.is_file():
        split = mnist.load("train", data_dir).take(train_images)  # the validation slice stays unseen
        zoo.export(zoo.train(arch, cfg, track=track, split=split), path)
    return str(path), model_io.stored_signature(model_io.load_own(path))
