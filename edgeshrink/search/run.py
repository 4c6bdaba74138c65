"""`edgeshrink search` end to end: prepare the starting models, run the study's workers, then re-measure
and render the frontier (outputs.py)."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from edgeshrink.atomic import write_text
from edgeshrink.errors import EdgeshrinkError, SearchError
from edgeshrink.progress import Track, no_progress
from edgeshrink.search import space as spaces
from edgeshrink.search import study as studies
from edgeshrink.search.workers import Job, run_workers

MARKER = "search.json"  # marks an output folder as edgeshrink search's own


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
    networks: tuple[str, ...] = ("localhost", "4g", "slow-4g")  # edgeshrink.web.timing profiles
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
    notes: list[str] = field(default_factory=list)
    frontier: object = None  # outputs.Frontier once re-measured


def search(model: str | os.PathLike | None, output: str | os.PathLike, opts: Options = Options(), *,
           data_dir=None, track: Track = no_progress, on_poll=lambda: None) -> SearchResult:
    """Run (or continue) the study, then re-measure and write the frontier into `output`."""
    _check_options(opts, model)
    studies.require()
    output = Path(output)
    _check_output(output)
    archs = ([spaces.INPUT_ARCH] if model else []) + _canonical(opts.archs)
    train_images = 60000 - opts.val_images
    space, notes = spaces.make_space(list(opts.space), archs, train_images=train_images,
                                     max_finetune_epochs=opts.max_finetune_epochs)
    from edgeshrink.search.outputs import prepare_bases

    bases, digest, model_name = prepare_bases(model, space, output, opts, data_dir, track)
    spec = studies.StudySpec(opts.storage or studies.default_storage(output),
                             opts.study or (Path(model).stem if model else "archs"), opts.heartbeat_s)
    binding = {"model": model_name, "model_sha256": digest, "space": space.describe()}
    study = studies.open_study(spec, binding, opts.seed)  # every error surfaces before workers start
    write_text(output / MARKER, json.dumps({"study": spec.name, "storage": studies.redact(spec.storage),
                                            "binding": binding}, indent=1) + "\n")
    job = Job(spec, binding, space, bases, str(output / "trials"), uuid.uuid4().hex, opts.trials, opts.seed,
              opts.val_images, str(data_dir) if data_dir else None, opts.timeout_s)
    notes += run_workers(job, opts.workers, on_poll)
    result = SearchResult(output, spec.name, studies.redact(spec.storage), notes=notes)
    _tally(study, result)
    if opts.remeasure:
        from edgeshrink.search.outputs import frontier

        result.frontier = frontier(study, output, opts, bases, data_dir, track)
    return result


def _tally(study, result: SearchResult) -> None:
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False):
        if t.state == TrialState.COMPLETE:
            result.complete += 1
        elif studies.counted(t):
            result.failed.append((t.number, t.user_attrs[studies.FAILURE]))
        elif t.state == TrialState.FAIL and "failed_trial" not in t.system_attrs and _retried(study, t.number):
            result.dead += 1


def _retried(study, number: int) -> bool:
    return any(number in t.system_attrs.get("retry_history", []) for t in study.get_trials(deepcopy=False))


def _check_options(opts: Options, model) -> None:
    if opts.trials < 1:
        raise SearchError(f"--trials must be at least 1, not {opts.trials}")
    if opts.workers < 1:
        raise SearchError(f"--workers must be at least 1, not {opts.workers}")
    if not 100 <= opts.val_images <= 20000:
        raise SearchError(f"--val-images must be between 100 and 20000 training images, not {opts.val_images}")
    if not model and not opts.archs:
        raise SearchError("nothing to search from: pass a model file, or --arch with edgeshrink's architectures")
    from edgeshrink import zoo
    from edgeshrink.web import timing

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


def _canonical(archs: tuple[str, ...]) -> list[str]:
    """One spelling per architecture and width (lenet5@1 is lenet5), each once, in the order given."""
    from edgeshrink import zoo

    return list(dict.fromkeys(zoo.canonical(a) for a in archs))


def _check_output(output: Path) -> None:
    """Only a new or empty folder, or an earlier search's, may be written to: never someone's other files."""
    if output.exists() and not output.is_dir():
        raise SearchError(f"{output} is a file; choose a folder for the search's outputs")
    if output.is_dir() and any(output.iterdir()) and not (output / MARKER).is_file():
        raise SearchError(f"{output} holds files that are not an edgeshrink search; choose an empty or new folder")
    output.mkdir(parents=True, exist_ok=True)
    if not (output / MARKER).is_file():  # claimed at once, so an interrupted first run can be continued
        write_text(output / MARKER, "{}\n")
