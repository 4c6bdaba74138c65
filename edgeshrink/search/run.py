"""`edgeshrink search` end to end, in order:
1. the starting models: the input model and each architecture trained once (study/bases.py);
2. the study's workers run trials until --trials have finished (study/pool.py, study/workers.py, study/trial.py),
   each measured at the edge (edge.py);
3. the Pareto front re-measured, bundled, plotted and answered (frontier/write.py)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from edgeshrink.errors import EdgeshrinkError, SearchError
from edgeshrink.progress import Track, no_progress
from edgeshrink.search import folder
from edgeshrink.search.study import space as spaces
from edgeshrink.search.study import storage as studies
from edgeshrink.search.study.pool import run_workers
from edgeshrink.search.study.workers import Job


@dataclass(frozen=True)
class Options:
    """How to search; every field has a CLI option of the same name."""

    trials: int = 12
    workers: int = 1
    storage: str | None = None  # default: SQLite in the output folder
    study: str | None = None  # default: the model file's stem
    space: tuple[str, ...] = spaces.SEARCHABLE
    archs: tuple[str, ...] = ()
    arch_epochs: int | None = None  # train --arch models for this many epochs (default: each one's own)
    seed: int = 0
    timeout_s: float | None = None
    heartbeat_s: int = 30
    val_images: int = 5000
    max_finetune_epochs: float = 2.0
    references: tuple[str, ...] = ("fast", "default", "max")
    networks: tuple[str, ...] = ("localhost", "4g", "slow-4g")  # edgeshrink.web.check.timing profiles
    contexts: int = 1  # fresh page loads per network whose median is the time to first prediction
    budget_ms: float | None = None
    network: str = "4g"
    remeasure: bool = True
    preprocess: str | None = None


@dataclass
class SearchResult:
    output: Path
    study: str
    storage: str  # without password
    complete: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (trial number, reason)
    dead: int = 0  # trials failed by heartbeat (their retries count instead)
    requeued: list[tuple[int, str]] = field(default_factory=list)  # (trial number, what the machine ran out of)
    notes: list[str] = field(default_factory=list)
    frontier: object = None  # outputs.Frontier once re-measured


def search(model: str | os.PathLike | None, output: str | os.PathLike, opts: Options = Options(), *,
           data_dir=None, track: Track = no_progress, on_poll=lambda: None) -> SearchResult:
    """Run (or continue) the study, then re-measure and write the frontier into `output`.

    Everything that can be refused is checked before the output folder is touched; a refused or interrupted
    setup leaves it as it was (folder.py)."""
    _check_options(opts, model)
    studies.require()
    output = Path(output)
    folder.check(output)
    from edgeshrink import api
    from edgeshrink import data as mnist
    from edgeshrink.core import model as model_io
    from edgeshrink.search.study.bases import prepare_bases

    mnist.load("train", data_dir)  # every trial needs it: missing MNIST is refused before the folder is touched
    opened = api.open_model(model, opts.preprocess, data_dir) if model else None
    int8 = (spaces.INPUT_ARCH,) if opened and model_io.is_quantized(opened.model) else ()
    archs = ([spaces.INPUT_ARCH] if model else []) + _canonical(opts.archs)
    space, notes = spaces.make_space(list(opts.space), archs, train_images=60000 - opts.val_images,
                                     max_finetune_epochs=opts.max_finetune_epochs, int8_archs=int8)
    spec = studies.StudySpec(opts.storage or studies.default_storage(output),
                             opts.study or (Path(model).stem if model else "archs"), opts.heartbeat_s)
    binding = {"model": Path(model).name if model else "edgeshrink architectures",
               "model_sha256": studies.file_digest(Path(model)) if model else "archs:" + ",".join(space.archs),
               "space": space.describe()}
    with folder.setting_up(output):
        study = studies.open_study(spec, binding, opts.seed)  # every error surfaces before workers start
        bases = prepare_bases(opened, space, output, opts, data_dir, track)
        folder.record(output, spec.name, studies.redact(spec.storage), binding)
    job = Job(spec, binding, space, bases, str(output / "trials"), uuid.uuid4().hex, opts.trials, opts.seed,
              opts.val_images, str(data_dir) if data_dir else None, opts.timeout_s)
    notes += run_workers(job, opts.workers, on_poll)
    result = SearchResult(output, spec.name, studies.redact(spec.storage), notes=notes)
    _tally(study, result)
    if opts.remeasure:
        from edgeshrink.search.frontier.write import frontier

        result.frontier = frontier(study, output, opts, bases, data_dir, track)
    return result


def _tally(study, result: SearchResult) -> None:
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False):
        if t.state == TrialState.COMPLETE:
            result.complete += 1
        elif studies.counted(t):
            result.failed.append((t.number, t.user_attrs[studies.FAILURE]))
        elif t.state == TrialState.FAIL and studies.REQUEUED in t.user_attrs:
            result.requeued.append((t.number, t.user_attrs[studies.REQUEUED]))
        elif t.state == TrialState.FAIL and "failed_trial" not in t.system_attrs and _retried(study, t.number):
            result.dead += 1


def _retried(study, number: int) -> bool:
    return any(number in t.system_attrs.get("retry_history", []) for t in study.get_trials(deepcopy=False))


def _check_options(opts: Options, model) -> None:
    """Every option, before any work: what the CLI's callbacks check, for callers of the library too."""
    from edgeshrink import recipe as recipes
    from edgeshrink import zoo
    from edgeshrink.web.check import timing

    for name, value, low in (("--trials", opts.trials, 1), ("--workers", opts.workers, 1),
                             ("--heartbeat", opts.heartbeat_s, 1), ("--contexts", opts.contexts, 1),
                             ("--arch-epochs", opts.arch_epochs, 1)):
        if value is not None and value < low:
            raise SearchError(f"{name} must be at least {low}, not {value}")
    for name, value in (("--timeout", opts.timeout_s), ("--budget-ms", opts.budget_ms),
                        ("--max-finetune-epochs", opts.max_finetune_epochs)):
        if value is not None and not value > 0:  # NaN too
            raise SearchError(f"{name} must be greater than 0, not {value}")
    if not 100 <= opts.val_images <= 20000:
        raise SearchError(f"--val-images must be between 100 and 20000 training images, not {opts.val_images}")
    if not model and not opts.archs:
        raise SearchError("nothing to search from: pass a model file, or --arch with edgeshrink's architectures")
    for arch in opts.archs:
        try:
            zoo.parse(arch)
        except EdgeshrinkError as exc:
            raise SearchError(f"--arch: {exc}") from None
    unknown = [n for n in (*opts.networks, opts.network) if n not in timing.PROFILES]
    if unknown:
        raise SearchError(f"unknown network {unknown[0]!r}; choose from {', '.join(timing.PROFILES)}")
    if opts.budget_ms is not None and opts.network not in opts.networks:
        raise SearchError(f"--network {opts.network} is not among the measured --networks {','.join(opts.networks)}")
    if opts.storage:
        studies.check_storage(opts.storage)
    for name in opts.references if model and opts.remeasure else ():
        recipes.load(name)  # a missing or malformed recipe file, before the trials rather than after
    if opts.remeasure:
        from edgeshrink.web.check import browser

        browser.locate()  # the frontier is timed in Chromium


def _canonical(archs: tuple[str, ...]) -> list[str]:
    """One spelling per architecture and width (lenet5@1 is lenet5), each once, in the order given."""
    from edgeshrink import zoo

    return list(dict.fromkeys(zoo.canonical(a) for a in archs))
