"""What a search leaves: the re-measured frontier with its table, plots, recipes and bundles, and the answer to a
latency budget."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from edgeshrink.core import model as model_io
from edgeshrink.errors import SearchError
from edgeshrink.search.frontier.measure import Candidate, Point, answer, edges, measure_points, test_evaluations
from edgeshrink.search.study.objectives import OBJECTIVES
from edgeshrink.search.study.space import INPUT_ARCH
from edgeshrink.search.study.storage import RECORD
from edgeshrink.search.study.trial import MODEL_FILE, RECIPE_FILE, TrialRecord

FRONTIER = "frontier"


@dataclass
class Frontier:
    folder: Path
    points: list[Point]
    answer: str
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def frontier(study, output: Path, opts, bases: dict, data_dir, track) -> Frontier:
    """Re-measure the Pareto trials (and the input model and shipped recipes, as landmarks); write it all."""
    from edgeshrink.search.frontier.plots import write_all

    folder = output / FRONTIER
    folder.mkdir(parents=True, exist_ok=True)
    candidates, notes = _pareto(study, folder)
    if not candidates:
        raise SearchError("no trial completed, so there is no frontier; see the failed trials' reasons above")
    if INPUT_ARCH in bases:
        path, sig = bases[INPUT_ARCH]
        candidates.append(Candidate("input", "input", INPUT_ARCH, Path(path), model_io.load_own(path), sig))
        candidates += _references(opts.references, path, sig, output / "references", data_dir, track)
    evaluations = test_evaluations(candidates, data_dir)
    node = edges(candidates, data_dir)
    # The compiled runtime where it reproduces onnxruntime; where it compiles but does not, onnxruntime-web.
    refused = [c for c in candidates if node[c.name].compiled_disagrees]
    bundles = [_bundle([c for c in candidates if c not in refused], evaluations, node, folder / "bundle", "compiled")]
    if refused:
        bundles.append(_bundle(refused, evaluations, node, folder / "bundle-ort", "ort"))
        notes += [f"{c.name}: {node[c.name].note}" for c in refused]
    points = measure_points(candidates, evaluations, node, bundles, opts.networks, contexts=opts.contexts)
    text = answer_text(points, opts.budget_ms, opts.network)
    files = write_all(points, folder, opts.networks, text)
    return Frontier(folder, points, text, files, notes)


def _pareto(study, folder: Path) -> tuple[list[Candidate], list[str]]:
    """The Pareto trials whose model is on this machine; each one's recipe exported to frontier/recipes/."""
    from optuna.trial import TrialState

    recipes, notes, out = folder / "recipes", [], []
    recipes.mkdir(parents=True, exist_ok=True)
    for t in study.best_trials:
        stored = t.user_attrs.get(RECORD)
        if t.state != TrialState.COMPLETE or not stored:
            continue
        record = TrialRecord.from_dict(stored)
        trial_dir = Path(record.folder)
        if not (trial_dir / MODEL_FILE).is_file():
            notes.append(f"trial {t.number} ran on {t.user_attrs.get('edgeshrink.worker', '?')}; "
                         f"its model is not in {trial_dir}, so it is not re-measured here")
            continue
        name = f"t{t.number:04d}"
        shutil.copyfile(trial_dir / RECIPE_FILE, recipes / f"{name}.yaml")
        proto = model_io.load_own(trial_dir / MODEL_FILE)
        search = {**{o.column: o.read(record) for o in OBJECTIVES}, "base_model": record.base_model}
        out.append(Candidate(name, "pareto", record.arch, trial_dir / MODEL_FILE, proto,
                             model_io.stored_signature(proto), str(recipes / f"{name}.yaml"), search))
    return out, notes


def _references(names, input_path: str, signature, folder: Path, data_dir, track) -> list[Candidate]:
    """The shipped recipes run on the input model, as `edgeshrink optimize` would (run once, then reused)."""
    from edgeshrink import outputs as written
    from edgeshrink import pipeline
    from edgeshrink import recipe as recipes

    out = []
    for name in names:
        target = folder / name
        if not (target / pipeline.FINAL_FILE).is_file():
            with written.staged(target, "output") as tmp:  # Ctrl-C leaves no half run behind
                pipeline.run(model_io.load_own(input_path), signature, recipes.load(name), tmp,
                             name=Path(input_path).name, max_drop=100.0, data_dir=data_dir, track=track)
        final = target / pipeline.FINAL_FILE
        out.append(Candidate(f"recipe-{name}", "recipe", INPUT_ARCH, final, model_io.load_own(final), signature,
                             str(recipes.recipe_path(name))))
    return out


def _bundle(candidates: list[Candidate], evaluations: dict, node: dict, dist: Path, runtime: str):
    """The candidates bundled as variants, each with the proto read once and the module its edge measurement
    compiled; the BundleResult."""
    from edgeshrink.web import Variant, bundle

    variants = []
    for c in candidates:
        ev = evaluations[c.name]
        what = {"pareto": f"Pareto trial {c.name} ({c.arch})", "recipe": f"shipped recipe {c.name[7:]}",
                "input": "the input model"}[c.kind]
        variants.append(Variant(c.name, c.path, c.signature, ev.accuracy, ev.params_total, ev.params_nonzero,
                                None, what, proto=c.proto, compiled=node[c.name].compiled))
    return bundle(variants, dist, runtime=runtime)


def answer_text(points: list[Point], budget_ms: float | None, network: str) -> str:
    if budget_ms is None:
        best, _ = answer(points, float("inf"), network)
        return f"most accurate model: {_describe(best, network)}" if best else "no model was measured"
    best, fastest = answer(points, budget_ms, network)
    if best:
        return (f"within {budget_ms:g} ms to the first prediction on {network}, the most accurate model is "
                f"{_describe(best, network)}")
    return (f"no model gives its first prediction within {budget_ms:g} ms on {network}; the fastest is "
            f"{_describe(fastest, network)}")


def _describe(p: Point, network: str) -> str:
    return (f"{p.name} ({p.kind}, {p.arch}): {100 * p.test_accuracy:.2f}% test accuracy, "
            f"{p.transfer_brotli:,} B first-visit brotli ({p.runtime}), {p.params_nonzero:,} non-zero parameters, "
            f"first prediction {p.first_prediction_ms[network]:,.0f} ms on {network}")
