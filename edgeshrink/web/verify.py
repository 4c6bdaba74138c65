"""Prove a bundle works: every variant classifies real test digits in headless Chromium like onnxruntime does."""

from __future__ import annotations

import base64
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import numpy as np

from edgeshrink import inference
from edgeshrink import model as model_io
from edgeshrink.errors import BundleError, ModelError
from edgeshrink.web import manifest
from edgeshrink.web.browser import Watch, open_page, settle, using
from edgeshrink.web.serve import running

# Where the two runtimes may pick different digits: only where the model itself hesitates, i.e. the
# probabilities of both picks differ by less than this (float rounding differs between wasm and x86 kernels).
NEAR_TIE = 0.02


@dataclass(frozen=True)
class VariantCheck:
    """How one variant did in the browser."""

    name: str
    images: int
    agreement: float  # share of images where the browser's digit equals onnxruntime's in Python
    near_ties: int  # disagreements where the model's top two probabilities were within NEAR_TIE
    max_score_diff: float | None  # largest |browser - python| raw score (None for class-index outputs)
    accuracy: float  # browser predictions against the labels
    latency_ms: float  # median per inference of one image, single thread
    first_prediction_ms: float  # from navigation start to the first prediction shown, fresh browser cache


@dataclass(frozen=True)
class VerifyResult:
    dist: Path
    browser: str
    runtime: str
    variants: list[VariantCheck]

    def rows(self) -> list[dict]:
        return [asdict(check) for check in self.variants]


def verify(dist: str | os.PathLike, images: int = 300, update_manifest: bool = True, runs: int = 200,
           executable: str | None = None, browser=None) -> VerifyResult:
    """Check every variant of the bundle in `dist` on `images` MNIST test digits; record the results.

    Raises BundleError naming the variant when the browser cannot run it or answers differently.
    `browser` is an open Playwright Browser to reuse; by default Chromium (`executable`) is launched.
    """
    from edgeshrink import data

    if images < 1 or runs < 1:
        raise BundleError(f"verify needs at least one image and one run, not {images} and {runs}")
    dist = Path(dist)
    doc = manifest.read(dist)
    test = data.load("test").take(images)
    with running(dist) as url, using(browser, executable) as chromium:
        watch = Watch(url)
        checks = [_check(chromium, url, watch, dist, entry, test, runs) for entry in doc["variants"]]
        watch.check()
        version = f"Chromium {chromium.version}"
    result = VerifyResult(dist, version, doc["runtime"]["version"], checks)
    if update_manifest:
        _record(dist, result)
    return result


def _check(browser, url: str, watch: Watch, dist: Path, entry: dict, test, runs: int) -> VariantCheck:
    from playwright.sync_api import Error as PlaywrightError

    name = entry["name"]
    context = browser.new_context()  # a fresh cache: the first prediction is timed as on a first visit
    try:
        page = open_page(context, f"{url}?model={quote(name)}", watch)
        status, first = settle(page, "window.edgeshrink.timeToFirstPrediction")
        if status == "error":
            raise BundleError(f"variant {name} does not run in the browser: {_one_line(first)}")
        pixels = base64.b64encode(test.images.tobytes()).decode()
        answer = page.evaluate("([name, pixels]) => window.edgeshrink.classify(name, pixels)", [name, pixels])
        bench = page.evaluate("([name, runs]) => window.edgeshrink.benchmark(name, runs)", [name, runs])
        for result in (answer, bench):
            if "error" in result:
                raise BundleError(f"variant {name} failed in the browser: {_one_line(result['error'])}")
    except PlaywrightError as exc:  # a timeout or a crashed page
        raise BundleError(f"variant {name}: the page stopped answering: {_one_line(exc.message)}") from exc
    finally:
        context.close()
    agreement, near_ties, score_diff = _compare(name, dist / entry["file"], entry, test.images, answer)
    predictions = np.asarray(answer["predictions"])
    return VariantCheck(name, len(test), agreement, near_ties, score_diff,
                        float((predictions == test.labels).mean()), round(bench["median_ms"], 5), round(first, 1))


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _compare(name: str, path: Path, entry: dict, pixels: np.ndarray, answer: dict) -> tuple[float, int, float | None]:
    """Compare the browser's answer with onnxruntime's in Python on the same pixels and signature."""
    signature = manifest.entry_signature(entry)
    try:
        session = inference.session(model_io.load(path), threads=1)
        expected = inference.predict(session, signature, pixels)
    except ModelError as exc:
        raise BundleError(f"variant {name} runs in the browser but not in Python to compare: {exc}") from exc
    got = np.asarray(answer["predictions"], dtype=np.int64)
    differ = np.flatnonzero(got != expected)
    if entry["output_kind"] == "class_index":
        score_diff, near = None, np.zeros(len(differ), dtype=bool)
    else:
        scores = inference.scores(session, signature, pixels).astype(np.float64)
        score_diff = float(np.abs(np.asarray(answer["scores"], dtype=np.float64) - scores).max())
        probs = _probabilities(entry["output_kind"], scores[differ])
        rows = np.arange(len(differ))
        near = np.abs(probs[rows, expected[differ]] - probs[rows, got[differ]]) < NEAR_TIE
    hard = differ[~near]
    if len(hard):
        i = hard[0]
        raise BundleError(
            f"variant {name}: the browser's digit differs from onnxruntime's on {len(hard)} of {len(pixels)} "
            f"test images (image {i}: browser {got[i]}, python {expected[i]}); onnxruntime-web computes this "
            "model differently, so do not ship it"
        )
    return 1 - len(differ) / len(pixels), int(near.sum()), score_diff


def _probabilities(kind: str, scores: np.ndarray) -> np.ndarray:
    if kind == "logits":
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
    elif kind == "log_probabilities":
        e = np.exp(scores)
    else:
        e = np.clip(scores, 0, None)
    return e / np.maximum(e.sum(axis=1, keepdims=True), 1e-30)


def _record(dist: Path, result: VerifyResult) -> None:
    doc = manifest.read(dist)
    checks = {c.name: c for c in result.variants}
    for entry in doc["variants"]:
        check = checks[entry["name"]]
        entry["browser"] = {k: v for k, v in asdict(check).items() if k != "name"}
    doc["verification"] = {
        "browser": result.browser,
        "runtime": f"onnxruntime-web {result.runtime}",
        "threads": 1,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    manifest.write(dist, doc)
