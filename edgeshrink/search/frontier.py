"""The Pareto front, re-measured honestly: test accuracy on all 10,000 test images, bytes from the files,
per-digit latency and time to first prediction in Chromium (localhost and emulated phone networks).

Nothing is copied from the search: the search's numbers (validation accuracy, Node latency) are kept
beside the re-measured ones only so the two can be compared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgeshrink import data as mnist
from edgeshrink import model as models
from edgeshrink.evaluate import evaluate
from edgeshrink.search.edge import measure_edge
from edgeshrink.signature import Signature

NETWORKS = ("localhost", "4g", "slow-4g")


@dataclass(frozen=True)
class Candidate:
    """A model to re-measure: a Pareto trial, a shipped recipe's result, or the input model."""

    name: str  # the bundle variant name
    kind: str  # "pareto", "recipe" or "input"
    arch: str
    path: Path
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
    model_brotli: int
    runtime: str
    runtime_brotli: int
    transfer_brotli: int
    node_latency_ms: float
    browser_latency_ms: float
    first_prediction_ms: dict[str, float]  # network profile -> ms
    model_file: str
    recipe_file: str = ""
    search: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def test_evaluations(candidates: list[Candidate], data_dir=None) -> dict:
    """name -> Evaluation on all 10,000 test images (no latency: that is measured in the browser)."""
    test = mnist.load("test", data_dir)
    return {c.name: evaluate(models.load(c.path), c.signature, c.name, test=test, latency=False) for c in candidates}


def measure_points(candidates: list[Candidate], evaluations: dict, dist: Path, networks: tuple[str, ...] = NETWORKS,
                   executable: str | None = None, data_dir=None, images: int = 300) -> list[Point]:
    """Re-measure every candidate in the runtime its bundle would ship: onnxruntime-web models in the
    bundle `dist` (a variant per candidate), compiled models in a timing page of their own."""
    from edgeshrink.search.network import first_predictions
    from edgeshrink.web.browser import chromium
    from edgeshrink.web.verify import verify

    digits = mnist.load("train", data_dir).images[-50:]
    test = mnist.load("test", data_dir).take(images)
    edges = {c.name: measure_edge(models.load(c.path), c.signature, digits) for c in candidates}
    browser_side = {}
    with chromium(executable) as browser:
        checks = {c.name: c for c in verify(dist, images=images, browser=browser).variants}
        ort_names = [c.name for c in candidates if edges[c.name].runtime != "compiled"]
        firsts = first_predictions(dist, ort_names, list(networks), browser=browser) if ort_names else {}
        for name in ort_names:
            browser_side[name] = (checks[name].latency_ms, firsts[name])
        for cand in candidates:
            if edges[cand.name].runtime == "compiled":
                check = _compiled_check(cand, dist.parent / "compiled" / cand.name, test, networks, browser)
                browser_side[cand.name] = (check.latency_ms, check.first_prediction_ms)
    points = []
    for cand in candidates:
        ev, edge = evaluations[cand.name], edges[cand.name]
        latency, first = browser_side[cand.name]
        points.append(Point(cand.name, cand.kind, cand.arch, ev.accuracy, ev.params_total, ev.params_nonzero,
                            ev.size.brotli, edge.runtime, edge.runtime_brotli, edge.transfer_brotli,
                            round(edge.latency_ms, 4), latency, first, str(cand.path), cand.recipe_file, cand.search))
    return points


def _compiled_check(cand: Candidate, folder: Path, test, networks, browser):
    """Compile again (the search kept measurements, not files), time it in Chromium, check its answers."""
    from edgeshrink import inference
    from edgeshrink.errors import SearchError
    from edgeshrink.runtime import compile_model
    from edgeshrink.search import compiled_page

    proto = models.load(cand.path)
    compiled_page.write_page(folder, compile_model(proto, cand.signature), cand.signature, test.images)
    expected = inference.predict(inference.session(proto, threads=1), cand.signature, test.images)
    check = compiled_page.measure(folder, expected, list(networks), browser)
    if check.agreement < 0.99:
        raise SearchError(f"{cand.name}: the compiled runtime in Chromium agrees with onnxruntime on only "
                          f"{100 * check.agreement:.1f}% of {len(test)} test digits; do not ship it")
    return check


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
