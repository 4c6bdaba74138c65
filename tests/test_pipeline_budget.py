"""The accuracy budget at its edge, on a real evaluated model: two magnitude-pruning steps without fine-tuning
(deterministic) lose d1 and then d2 points against the input; budgets a hundredth of a point either side of
those losses decide. And the test images: measured after every step, never seen by detection, fine-tuning
or calibration (checked by instrumenting what is fed to the model outside evaluation)."""

from __future__ import annotations

import hashlib

import pytest

from edgeshrink import api
from edgeshrink.core import model as model_io
from edgeshrink.core.signature import Signature
from edgeshrink.pipeline import runner
from tests.models import save

RECIPE = """name: two-cuts
steps:
  - pass: prune
    method: unstructured
    sparsity: 0.5
    finetune_epochs: 0
  - pass: prune
    method: unstructured
    sparsity: 0.6
    finetune_epochs: 0
"""
HAIR = 0.01  # one test image of 10,000, in points


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    path = tmp_path_factory.mktemp("recipe") / "two-cuts.yaml"
    path.write_text(RECIPE)
    return path


@pytest.fixture(scope="module")
def losses(small_cnn, recipe, tmp_path_factory) -> tuple[float, float, float]:
    """(baseline accuracy, points lost by step 1, points lost after step 2), both against the input."""
    report = api.optimize(small_cnn, str(recipe), output=tmp_path_factory.mktemp("unbounded") / "out", max_drop=100)
    base = report.baseline.accuracy
    d1, d2 = (100 * (base - step.evaluation.accuracy) for step in report.steps)
    # the edge tests below need two real losses, the second larger than either cut alone
    assert 0.05 <= d1 and d2 - d1 >= 0.05 and d2 > max(d1, d2 - d1) + 2 * HAIR, (d1, d2)
    return base, d1, d2


def _run(small_cnn, recipe, tmp_path, **budget):
    return api.optimize(small_cnn, str(recipe), output=tmp_path / "out", **budget)


def test_budget_is_in_points_just_under_the_first_loss_stops(losses, small_cnn, recipe, tmp_path):
    _, d1, _ = losses
    report = _run(small_cnn, recipe, tmp_path, max_drop=d1 - HAIR)
    assert report.stopped_at == 1 and _budget_statuses(report) == ["over budget"]
    assert (tmp_path / "out" / "model.opt.onnx").read_bytes() == (tmp_path / "out" / "00-input.onnx").read_bytes()


def test_a_loss_equal_to_the_budget_is_within_it(losses, small_cnn, recipe, tmp_path):
    """'A step that loses more than --max-drop points stops the run': exactly the budget does not."""
    _, d1, d2 = losses
    report = _run(small_cnn, recipe, tmp_path, max_drop=d2)
    assert report.completed and _budget_statuses(report) == ["ok", "ok"]
    assert _budget_statuses(_run(small_cnn, recipe, tmp_path / "first", max_drop=d1))[0] == "ok"


def test_budget_counts_against_the_input_not_the_previous_step(losses, small_cnn, recipe, tmp_path):
    """Each cut alone stays within the budget; together they do not: step 2 stops the run."""
    _, d1, d2 = losses
    report = _run(small_cnn, recipe, tmp_path, max_drop=max(d1, d2 - d1) + HAIR)
    assert _budget_statuses(report) == ["ok", "over budget"] and report.stopped_at == 2
    kept = (tmp_path / "out" / "model.opt.onnx").read_bytes()
    assert kept == (tmp_path / "out" / "01-prune.onnx").read_bytes()
    assert report.final_evaluation == report.steps[0].evaluation


def test_min_accuracy_floor_at_its_edge(losses, small_cnn, recipe, tmp_path):
    base, d1, d2 = losses
    floor = round(100 * base - d1, 2)  # exactly what step 1 measures, in percent
    report = _run(small_cnn, recipe, tmp_path, max_drop=100, min_accuracy=floor)
    assert _budget_statuses(report) == ["ok", "over budget"]
    report = _run(small_cnn, recipe, tmp_path / "higher", max_drop=100, min_accuracy=floor + HAIR)
    assert _budget_statuses(report) == ["over budget"]


def test_cli_exit_code_and_sentence_when_over_budget(losses, small_cnn, recipe, tmp_path):
    from edgeshrink.cli import codes
    from tests.readme.cli import edgeshrink

    _, d1, _ = losses
    budget = f"{d1 - HAIR:.2f}"
    done = edgeshrink("optimize", small_cnn, "--recipe", recipe, "--max-drop", budget, "-o", tmp_path / "out",
                      check=codes.OVER_BUDGET)
    assert f"step 1 (prune) lost {d1:.2f} pt, over the {float(budget):g} pt budget by 0.01 pt" in done.out


# --- the test set is only ever measured ------------------------------------------------------------

def _digests(pixels) -> set[bytes]:
    return {hashlib.blake2b(image.tobytes(), digest_size=12).digest() for image in pixels}


def test_detection_fine_tuning_and_calibration_never_see_a_test_image(small_cnn, test_split, tmp_path, monkeypatch):
    """Every image fed to a model outside the pipeline's evaluate() is recorded; none is a test image
    (MNIST's train and test sets share no identical image, so a digest match is a leak)."""
    proto = model_io.load(small_cnn)
    del proto.metadata_props[:]  # no metadata: the preprocessing is detected on training images
    bare = save(proto, tmp_path / "bare.onnx")
    recipe = tmp_path / "trains.yaml"
    recipe.write_text("steps:\n  - pass: prune\n    method: structured\n    sparsity: 0.25\n"
                      "    finetune_images: 256\n  - pass: quantize\n    calibration_images: 64\n")
    fed, measuring = [], []
    feed, evaluate = Signature.feed, runner.evaluate

    def watched_feed(self, pixels):
        if not measuring:
            fed.append(pixels.copy())
        return feed(self, pixels)

    def measured(*args, **kwargs):
        measuring.append(True)
        try:
            return evaluate(*args, **kwargs)
        finally:
            measuring.pop()

    monkeypatch.setattr(Signature, "feed", watched_feed)
    monkeypatch.setattr(runner, "evaluate", measured)
    report = api.optimize(bare, str(recipe), output=tmp_path / "out", max_drop=100)
    assert any("preprocessing detected on 5,000 training images" in note for note in report.baseline.notes)
    assert [s.name for s in report.steps] == ["prune", "quantize"]
    seen = set().union(*(_digests(batch) for batch in fed))
    assert len(seen) >= 5000 + 256  # detection's trial and fine-tuning went through feed()
    assert not seen & _digests(test_split.images)


def _budget_statuses(report) -> list[str]:
    """Each step's status as the budget decided it: 'worse' is a step within budget that measured larger or
    slower than its input, and slower depends on the machine's load, which these tests do not control."""
    return ["ok" if s.status == "worse" else s.status for s in report.steps]
