"""The Optuna study behind a search: storage (SQLite by default, any Optuna database URL), heartbeats and
retries of dead workers' trials, and the binding of a study name to one model and one search space."""

from __future__ import annotations

import hashlib
import importlib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from edgeshrink.errors import SearchError
from edgeshrink.search.study.objectives import OBJECTIVES

BINDING = "edgeshrink.binding"  # study user attribute: which model and space the study belongs to
RECORD = "edgeshrink.record"  # trial user attribute: its TrialRecord, as `to_dict` wrote it
RUN = "edgeshrink.run"  # trial user attribute: the command invocation that claimed it
FAILURE = "edgeshrink.failure"  # trial user attribute: why the recipe failed (a recorded, counted failure)
REQUEUED = "edgeshrink.requeued"  # trial user attribute: why the machine ended it (queued again, not counted)
MAX_RETRY = 3


@dataclass(frozen=True)
class StudySpec:
    """Where the study lives and how workers keep it alive."""

    storage: str  # an Optuna database URL
    name: str
    heartbeat_s: int = 30  # a trial whose worker is silent for 2x this is failed and retried


def default_storage(output: Path) -> str:
    return f"sqlite:///{(output / 'study.db').resolve()}"


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def check_storage(url: str) -> None:
    """Refuse a URL SQLAlchemy cannot read, or a database only one process can see (SQLite in memory)."""
    try:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError
    except ImportError:  # without the search extra: require() names it
        return

    try:
        parsed = make_url(engine_url(url))
    except ArgumentError:
        raise SearchError(f"{redact(url)} is not a database URL; pass one such as sqlite:///study.db or "
                          "postgresql://user:pw@host/db") from None
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and (database in ("", ":memory:") or database.startswith("file::memory:")
                                                  or parsed.query.get("mode") == "memory"):
        raise SearchError(f"{redact(url)} keeps the study in one process's memory, where the workers and the "
                          "report cannot share it; pass a file such as sqlite:///study.db, or a database server")


def engine_url(url: str) -> str:
    """PostgreSQL URLs through psycopg2 (SQLAlchemy 2.1 would pick psycopg 3, which edgeshrink does not install)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


EXTRA = (("optuna", "Optuna"), ("matplotlib", "matplotlib"))  # the `search` extra, without the database driver


def require() -> None:
    """Check the `search` extra is installed before any work, else a SearchError naming the fix."""
    for module, name in EXTRA:
        try:
            importlib.import_module(module)
        except ImportError:
            raise SearchError(f"edgeshrink search needs {name}, which is not installed; "
                              "pip install 'edgeshrink[search]'") from None


def storage(spec: StudySpec):
    """An RDBStorage with heartbeats and the retry callback; an unreachable database is a SearchError."""
    import optuna
    from optuna.exceptions import ExperimentalWarning

    warnings.simplefilter("ignore", ExperimentalWarning)
    if spec.heartbeat_s < 1:
        raise SearchError(f"--heartbeat must be at least 1 second, not {spec.heartbeat_s}")
    try:
        return optuna.storages.RDBStorage(
            engine_url(spec.storage), heartbeat_interval=spec.heartbeat_s, grace_period=2 * spec.heartbeat_s,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY),
            engine_kwargs=_engine_kwargs(spec.storage))
    except ImportError as exc:
        raise SearchError(f"the database driver for {redact(spec.storage)} is not installed; "
                          "pip install 'edgeshrink[search]' (psycopg2-binary for PostgreSQL)") from exc
    except Exception as exc:  # sqlalchemy's OperationalError, ArgumentError and the drivers' own errors
        raise SearchError(f"cannot open the study database {redact(spec.storage)}: {_first_line(exc)}; "
                          "check that the server runs and the URL, user and password are right") from exc


def _engine_kwargs(url: str) -> dict:
    if url.startswith("postgresql"):
        return {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}  # several local workers write to one file
    return {}


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return " ".join(text.splitlines()[0].split()) if text else type(exc).__name__


def open_study(spec: StudySpec, binding: dict, seed: int = 0, worker: int = 0):
    """Create or load the study and check it belongs to this model and space."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial is one line of ours, not Optuna's traceback
    sampler = optuna.samplers.TPESampler(seed=seed + worker, n_startup_trials=8, constant_liar=True)
    try:
        study = optuna.create_study(storage=storage(spec), study_name=spec.name, directions=[o.direction for o in OBJECTIVES],
                                    sampler=sampler, load_if_exists=True)
    except SearchError:
        raise
    except Exception as exc:
        raise SearchError(f"cannot open study {spec.name!r} in {redact(spec.storage)}: {_first_line(exc)}") from exc
    _check_binding(study, spec.name, binding)
    return study


def _check_binding(study, name: str, binding: dict) -> None:
    if list(study.directions) != [o.direction_value() for o in OBJECTIVES]:
        raise SearchError(f"study {name!r} was not made by edgeshrink search (other objectives); "
                          "choose another --study name")
    found = study.user_attrs.get(BINDING)
    if found is None:
        if study.trials:
            raise SearchError(f"study {name!r} already has trials not made by edgeshrink search; "
                              "choose another --study name")
        study.set_user_attr(BINDING, binding)
        return
    if found.get("model_sha256") != binding["model_sha256"]:
        raise SearchError(
            f"study {name!r} belongs to another model ({found.get('model', '?')}, sha256 "
            f"{found.get('model_sha256', '?')[:12]}); pass that model, or a new --study name for this one")
    if found.get("space") != binding["space"]:
        raise SearchError(f"study {name!r} searched another space ({_space_text(found.get('space'))}); "
                          "pass the same --space/--arch, or a new --study name")


def _space_text(space: dict | None) -> str:
    if not space:
        return "unknown"
    return f"space {','.join(space.get('groups', []))}, archs {','.join(space.get('archs', []))}"


def counted(trial) -> bool:
    """A trial that used up one of --trials: complete, or failed with a recorded reason (not a dead worker)."""
    from optuna.trial import TrialState

    return trial.state == TrialState.COMPLETE or (trial.state == TrialState.FAIL and FAILURE in trial.user_attrs)


def requeue(study, trial) -> None:
    """Queue a trial the machine ended (a full disk, no memory, Ctrl-C) again with the same recipe, at most
    MAX_RETRY times, as the heartbeat does for a dead worker's trial."""
    import copy

    import optuna

    trial = copy.deepcopy(trial)
    trial.user_attrs = {}  # the retry is a fresh trial: its run and worker are set when it runs
    optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)(study, trial)


def fail_stale(study) -> None:
    import optuna

    optuna.storages.fail_stale_trials(study)
