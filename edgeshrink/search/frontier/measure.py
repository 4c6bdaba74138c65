"""The Pareto front, re-measured honestly: test accuracy on all 10,000 test images, bytes from the bundle,
per-digit latency and time to first prediction in Chromium (localhost and emulated networks).

Nothing is copied from the search: the search's numbers (validation accuracy, Node latency) are kept
beside the re-measured ones only so the two can be compared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import onnx

from edgeshrink import data as mnist
from edgeshrink.core.signature import Signature
from edgeshrink.evaluate import evaluate
from edgeshrink.search.edge import measure_edge

NETWORKS = ("localhost", "4g", "slow-4g")  # profiles of edgeshrink.web.check.timing


@dataclass(frozen=True)
class Candidate:
    """A model to re-measure: a Pareto trial, a shipped recipe's result, or the input model, read once (`proto`)
    and carried through evaluation, the edge measurement and the bundle."""

    name: str  # the bundle variant name
    kind: str  # "pareto", "recipe" or "input"
    arch: str
    path: Path
    proto: onnx.ModelProto = field(repr=False, compare=False)
    signature: Signature
    recipe_file: str = ""
    search: dict = field(default_factory=dict)  # the trial's search-time measurements, for comparison


@dataclass(frozen=True)
class Point:
    """One re-measured model of the frontier report."""

    name: str
    kind: str
    arch: str
    test_accuracy: float
    params_total: int
    params_nonzero: int
    model_brotli: int  # the model's files on a first visit (the compiled wasm holds kernels and weights)
    runtime: str  # "compiled" or "ort" (onnxruntime-web), as the bundle placed it
    runtime_brotli: int  # the runtime's files on a first visit (ES module loader, or onnxruntime-web)
    transfer_brotli: int  # runtime + model, brotli: what the search minimized
    node_latency_ms: float  # per digit in Node (the search's measurement, again)
    browser_latency_ms: float  # per digit in Chromium, one thread
    first_prediction_ms: dict[str, float]  # network profile -> ms from navigation start, cold cache
    first_visit_bytes: int  # everything the page received on the wire until it was ready (page included)
    model_file: str
    recipe_file: str = ""
    search: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def test_evaluations(candidates: list[Candidate], data_dir=None) -> dict:
    """name -> Evaluation on all 10,000 test images (no latency: that is measured in the browser)."""
    test = mnist.load("test", data_dir)
    return {c.name: evaluate(c.proto, c.signature, c.name, test=test, latency=False) for c in candidates}


def edges(candidates: list[Candidate], data_dir=None) -> dict:
    """name -> EdgeMeasurement in Node (which runtime the model gets, and the search's latency, again), with the
    compiled module the bundle then ships."""
    digits = mnist.load("train", data_dir).images[-50:]
    return {c.name: measure_edge(c.proto, c.signature, digits) for c in candidates}


def measure_points(candidates: list[Candidate], evaluations: dict, node: dict, bundles: list,
                   networks: tuple[str, ...] = NETWORKS, executable: str | None = None, images: int = 300,
                   contexts: int = 1) -> list[Point]:
    """Re-measure every candidate in `bundles` (web.BundleResult: a variant each, on the runtime its bundle gave
    it): `edgeshrink verify` in Chromium for answers, latency and time to first prediction per network, the
    bundles' own record of the first visit's bytes."""
    from edgeshrink.web.check.verify import verify

    checks, visits = {}, {}
    for built in bundles:
        result = verify(built.out_dir, images=images, profiles=tuple(networks), contexts=contexts,
                        executable=executable)
        checks.update({c.name: c for c in result.variants})
        visits.update(built.first_visits)
    points = []
    for cand in candidates:
        ev, check, visit = evaluations[cand.name], checks[cand.name], visits[cand.name]
        runtime, model = visit["runtime"]["brotli"], visit["models"]["brotli"]
        points.append(Point(cand.name, cand.kind, cand.arch, ev.accuracy, ev.params_total, ev.params_nonzero, model,
                            check.runtime, runtime, runtime + model, round(node[cand.name].latency_ms, 4),
                            check.latency_ms, dict(check.first_prediction_by_profile), check.first_visit_bytes,
                            str(cand.path), cand.recipe_file, cand.search))
    return points


def answer(points: list[Point], budget_ms: float, network: str) -> tuple[Point | None, Point | None]:
    """The most accurate model whose first prediction on `network` meets the budget, and the fastest one
    (to say how far off the budget is when nothing meets it)."""
    timed = [p for p in points if network in p.first_prediction_ms]
    fastest = min(timed, key=lambda p: p.first_prediction_ms[network], default=None)
    within = [p for p in timed if p.first_prediction_ms[network] <= budget_ms]
    best = max(within, key=lambda p: (p.test_accuracy, -p.transfer_brotli), default=None)
    return best, fastest


def largest_within(points: list[Point], budget_ms: float, network: str) -> Point | None:
    """The largest model (transfer bytes) whose first prediction on `network` comes within the budget."""
    within = [p for p in points if p.first_prediction_ms.get(network, float("inf")) <= budget_ms]
    return max(within, key=lambda p: (p.model_brotli, p.test_accuracy), default=None)
