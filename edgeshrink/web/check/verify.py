"""Prove a bundle works: every variant, on its runtime, classifies the MNIST test digits in headless Chromium
exactly as onnxruntime does in Python with exact int8 arithmetic on any CPU (int8: bit-identical scores; float:
identical classes), and time it."""

from __future__ import annotations

import base64
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from edgeshrink import engine, inference
from edgeshrink.core import model as model_io
from edgeshrink.engine import Engine
from edgeshrink.errors import BundleError, ModelError
from edgeshrink.web.assemble import manifest
from edgeshrink.web.check import timing
from edgeshrink.web.check.browser import Watch, using
from edgeshrink.web.check.serve import running

ALL_PROFILES = tuple(timing.PROFILES)


@dataclass(frozen=True)
class VariantCheck:
    """How one variant did in the browser, on its runtime."""

    name: str
    runtime: str  # 'compiled' or 'ort'
    images: int
    agreement: float  # share of images where the browser's digit equals the reference's (always 1.0)
    identical_scores: bool | None  # every score bit-identical to the reference's (None: class-index output)
    max_score_diff: float | None  # largest |browser - python| raw score (None for class-index outputs)
    accuracy: float  # browser predictions against the labels
    latency_ms: float  # median per digit, one thread
    first_prediction_ms: float  # localhost, median of fresh contexts (empty cache): the answer in the page
    first_visit_bytes: int  # measured on the wire in a fresh context, until the gallery had loaded
    first_prediction_by_profile: dict[str, float] = field(default_factory=dict)  # profile -> median ms
    latency_ms_cpu4x: float | None = None
    first_shown_ms: float | None = None  # localhost, median: the frame that showed the first answer on screen


@dataclass(frozen=True)
class VerifyResult:
    dist: Path
    browser: str
    runtimes: dict[str, str]  # runtime -> its description
    contexts: int
    variants: list[VariantCheck]
    reference: Engine  # what computed the answers the page's were compared with: exact int8 on this CPU

    def rows(self) -> list[dict]:
        return [asdict(check) for check in self.variants]


def verify(dist: str | os.PathLike, images: int = 10_000, update_manifest: bool = True, runs: int = 200,
           contexts: int = 5, profiles: tuple[str, ...] = ALL_PROFILES, executable: str | None = None,
           browser=None) -> VerifyResult:
    """Check every variant of the bundle in `dist` on the first `images` MNIST test digits; time the first
    prediction over `contexts` fresh page loads per profile; record the results in manifest.json.

    Raises BundleError naming the variant when the browser cannot run it or answers differently.
    `browser` is an open Playwright Browser to reuse; by default Chromium (`executable`) is launched.
    """
    from edgeshrink import data

    if images < 1 or runs < 1 or contexts < 1:
        raise BundleError(f"verify needs at least one image, run and context, not {images}, {runs}, {contexts}")
    chosen = timing.profiles(profiles)
    dist = Path(dist)
    doc = manifest.read(dist)
    test = data.load("test").take(images)
    with running(dist) as url, using(browser, executable) as chromium:
        watch = Watch(url)
        entries = [manifest.VariantEntry.from_dict(e) for e in doc["variants"]]
        checks = [_check(chromium, url, watch, dist, entry, test, runs, contexts, chosen) for entry in entries]
        watch.check()
        version = f"Chromium {chromium.version}"
    result = VerifyResult(dist, version, _runtimes(doc), contexts, checks, engine.current())
    if update_manifest:
        _record(dist, result)
    return result


def _runtimes(doc: dict) -> dict[str, str]:
    used = {entry["runtime"] for entry in doc["variants"]}
    names = {"compiled": "compiled for the model (WebAssembly)",
             "ort": f"onnxruntime-web {(doc.get('ort') or {}).get('version')} (WebAssembly)"}
    return {r: names[r] for r in sorted(used)}


def _check(browser, url: str, watch: Watch, dist: Path, entry: manifest.VariantEntry, test, runs: int, contexts: int,
           chosen: list[timing.Profile]) -> VariantCheck:
    from playwright.sync_api import Error as PlaywrightError

    name = entry.name
    try:
        first_load, (answer, latency) = timing.load_once(
            browser, url, name, timing.PROFILES["localhost"], watch, then=lambda page: _classify(page, name, test, runs))
        both = {p.name: timing.median_first_prediction(browser, url, name, p, watch, contexts) for p in chosen}
        medians = {profile: answered for profile, (answered, _) in both.items()}
        shown = both["localhost"][1] if "localhost" in both else first_load.first_shown_ms
        cpu4x = None
        if "cpu4x" in medians:
            cpu4x = timing.load_once(browser, url, name, timing.PROFILES["cpu4x"], watch,
                                     then=lambda page: timing.benchmark(page, name, runs))[1]
    except PlaywrightError as exc:  # a timeout or a crashed page
        raise BundleError(f"variant {name}: the page stopped answering: {' '.join(exc.message.split())}") from exc
    identical, score_diff = _compare(name, dist / entry.file, entry, test.images, answer)
    predictions = np.asarray(answer["predictions"])
    return VariantCheck(
        name, entry.runtime, len(test), 1.0, identical, score_diff, float((predictions == test.labels).mean()),
        latency, medians.get("localhost", first_load.first_prediction_ms), first_load.transferred_bytes,
        medians, cpu4x, shown)


def _classify(page, name: str, test, runs: int) -> tuple[dict, float]:
    pixels = base64.b64encode(test.images.tobytes()).decode()
    answer = page.evaluate("([name, pixels]) => window.edgeshrink.classify(name, pixels)", [name, pixels])
    if "error" in answer:
        raise BundleError(f"variant {name} failed in the browser: {' '.join(str(answer['error']).split())}")
    return answer, timing.benchmark(page, name, runs)


def _compare(name: str, path: Path, entry: manifest.VariantEntry, pixels: np.ndarray,
             answer: dict) -> tuple[bool | None, float | None]:
    """The browser's answer against exact arithmetic in Python (onnxruntime, or the compiled runtime where this
    CPU's onnxruntime is not exact) on the same pixels and signature: identical classes always, and bit-identical
    scores for int8 models on either runtime. (identical scores, largest difference)."""
    signature = entry.signature
    try:
        session = inference.session(model_io.load(path), threads=1, signature=signature)
        expected = inference.predict(session, signature, pixels)
    except ModelError as exc:
        raise BundleError(f"variant {name} runs in the browser but not in Python to compare: {exc}") from exc
    got = np.asarray(answer["predictions"], dtype=np.int64)
    where = f"variant {name} ({entry.runtime})"
    differ = np.flatnonzero(got != expected)
    if len(differ):
        i = differ[0]
        raise BundleError(f"{where}: the browser's digit differs from onnxruntime's on {len(differ)} of {len(pixels)} "
                          f"test images (image {i}: browser {got[i]}, python {expected[i]}, computed with "
                          f"{inference.engine_of(session)}); the page would answer wrongly")
    if signature.output_kind == "class_index":
        return None, None
    scores = inference.scores(session, signature, pixels).astype(np.float32)
    browser_scores = np.asarray(answer["scores"], dtype=np.float64).astype(np.float32)
    identical = bool(np.array_equal(browser_scores, scores))
    score_diff = float(np.abs(browser_scores.astype(np.float64) - scores.astype(np.float64)).max())
    # Integer arithmetic has one right answer: both runtimes must reproduce it bit for bit.
    if entry.quantized and not identical:
        rows = int((browser_scores != scores).any(axis=1).sum())
        raise BundleError(f"{where}: int8 scores differ from exact int8 arithmetic ({inference.engine_of(session)}) "
                          f"on {rows} of {len(pixels)} test images (by up to {score_diff:.3g}); the runtime does not "
                          "reproduce onnxruntime's arithmetic")
    return identical, score_diff


def _record(dist: Path, result: VerifyResult) -> None:
    doc = manifest.read(dist)
    checks = {c.name: c for c in result.variants}
    for entry in doc["variants"]:
        check = checks[entry["name"]]
        entry["browser"] = {k: v for k, v in asdict(check).items() if k != "name"}
    doc["verification"] = {
        "browser": result.browser,
        "runtimes": result.runtimes,
        "threads": 1,
        "contexts": result.contexts,
        "reference": result.reference.to_dict(),
        "profiles": {name: timing.PROFILES[name].description
                     for name in next(iter(checks.values())).first_prediction_by_profile},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    manifest.write(dist, doc)
