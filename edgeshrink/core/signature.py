"""How to feed MNIST pixels to a model and read its answer: the one definition everything shares."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

import numpy as np

from edgeshrink.errors import ModelError

# layout -> shape of one image in that layout (after the batch dimension, if any)
LAYOUTS = {
    "NCHW": (1, 28, 28),
    "NCHW3": (3, 28, 28),
    "NHWC": (28, 28, 1),
    "NHWC3": (28, 28, 3),
    "NHW": (28, 28),
    "N784": (784,),
}
DTYPES = ("float32", "float64", "float16", "uint8")
OUTPUT_KINDS = ("logits", "probabilities", "log_probabilities", "class_index")
METADATA_KEY = "edgeshrink.signature"


@dataclass(frozen=True)
class Preprocess:
    """x = (pixel * scale - mean) / std, pixels being the raw uint8 values 0..255 (white digit on black)."""

    scale: float = 1 / 255
    mean: float = 0.0
    std: float = 1.0

    def apply(self, pixels: np.ndarray) -> np.ndarray:
        return (pixels.astype(np.float64) * self.scale - self.mean) / self.std

    @property
    def name(self) -> str:
        for name, preset in PRESETS.items():
            if np.allclose([self.scale, self.mean, self.std], [preset.scale, preset.mean, preset.std], atol=1e-6):
                return name
        return f"scale={self.scale:g},mean={self.mean:g},std={self.std:g}"

    @classmethod
    def parse(cls, text: str) -> "Preprocess":
        """A preset name (unit, mnist, symmetric, raw) or 'scale=...,mean=...,std=...'."""
        if text in PRESETS:
            return PRESETS[text]
        try:
            fields = dict(part.split("=", 1) for part in text.replace(";", ",").split(",") if part)
            values = {key.strip(): float(eval_fraction(val)) for key, val in fields.items()}
            parsed = cls(**values)
        except (ValueError, TypeError, ZeroDivisionError) as exc:
            raise ModelError(
                f"cannot read preprocessing {text!r}; use one of {', '.join(PRESETS)} "
                "or 'scale=1/255,mean=0.1307,std=0.3081'"
            ) from exc
        return parsed.checked(text)

    def checked(self, text: str = "") -> "Preprocess":
        """Self, if every value is finite and scale and std are non-zero (else no pixel survives)."""
        values = {"scale": self.scale, "mean": self.mean, "std": self.std}
        bad = [f"{key}={value:g}" for key, value in values.items() if not np.isfinite(value)]
        bad += [f"{key}=0" for key in ("scale", "std") if values[key] == 0]
        if bad:
            raise ModelError(
                f"preprocessing {text or self.name!r} has {', '.join(bad)}: every pixel would become the same "
                "or not a number; scale and std must be finite and non-zero, e.g. 'scale=1/255,mean=0.1307,std=0.3081'"
            )
        return self


def eval_fraction(text: str) -> float:
    """'1/255' -> 0.00392..., '0.5' -> 0.5."""
    num, _, den = text.strip().partition("/")
    return float(num) / float(den) if den else float(num)


PRESETS = {
    "unit": Preprocess(1 / 255, 0.0, 1.0),  # pixels in 0..1
    "mnist": Preprocess(1 / 255, 0.1307, 0.3081),  # torchvision's MNIST mean/std
    "symmetric": Preprocess(1 / 255, 0.5, 0.5),  # (x - 0.5) / 0.5, pixels in -1..1
    "raw": Preprocess(1.0, 0.0, 1.0),  # pixels in 0..255
}


@dataclass(frozen=True)
class Signature:
    """Everything needed to run a model on MNIST images and read its predicted digit."""

    input_name: str
    layout: str  # a key of LAYOUTS
    batch: int | None  # None: dynamic; 0: no batch dimension (one image per run); B: fixed at B
    dtype: str  # a member of DTYPES
    preprocess: Preprocess
    output_index: int = 0
    output_kind: str = "logits"  # a member of OUTPUT_KINDS
    output_name: str = ""

    @property
    def chunk(self) -> int:
        """How many images one run takes at most (dynamic batches are cut into chunks of 1000)."""
        return 1000 if self.batch is None else max(self.batch, 1)

    def input_shape(self, n: int) -> tuple[int, ...]:
        image = LAYOUTS[self.layout]
        return image if self.batch == 0 else (n, *image)

    def feed(self, pixels: np.ndarray) -> np.ndarray:
        """The model's input for raw uint8 pixels of shape (n, 28, 28); n must fit one run."""
        n = len(pixels)
        if self.dtype == "uint8":
            x = pixels.astype(np.uint8)
        else:
            x = self.preprocess.apply(pixels).astype(self.dtype)
        if self.layout.endswith("3"):
            x = np.repeat(x[:, None], 3, axis=1) if self.layout == "NCHW3" else np.repeat(x[..., None], 3, axis=3)
        return np.ascontiguousarray(x.reshape(self.input_shape(n)))

    def classes(self, outputs: list[np.ndarray], n: int) -> np.ndarray:
        """The predicted digit of each of the n images from the model's outputs."""
        out = np.asarray(outputs[self.output_index])
        if self.output_kind == "class_index":
            return out.reshape(-1)[:n].astype(np.int64)
        return out.reshape(-1, 10)[:n].argmax(axis=1)

    def scores(self, outputs: list[np.ndarray], n: int) -> np.ndarray:
        """The (n, 10) class scores as the model gives them (logits, probabilities or log-probabilities)."""
        return np.asarray(outputs[self.output_index]).reshape(-1, 10)[:n]

    def with_preprocess(self, preprocess: Preprocess) -> "Signature":
        return replace(self, preprocess=preprocess)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Signature":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict) -> "Signature":
        """The signature `dataclasses.asdict` (or `to_json`) wrote."""
        return cls(**{**data, "preprocess": Preprocess(**data["preprocess"]).checked()})
