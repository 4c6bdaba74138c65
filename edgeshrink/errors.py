"""Errors a user can act on. Each message is one line: what is wrong, then how to fix it."""


class EdgeshrinkError(Exception):
    """Base of every error the CLI turns into a one-line message and exit code 1."""


class DataError(EdgeshrinkError):
    """The MNIST files are missing, truncated, tampered with or not MNIST."""


class ModelError(EdgeshrinkError):
    """A model file is unreadable or cannot be an MNIST classifier."""


class RecipeError(EdgeshrinkError):
    """A recipe is malformed: unknown pass, bad parameter or impossible order."""


class PassError(EdgeshrinkError):
    """A pass could not transform a model (the third-party tool's reason is in the message)."""


class ReportError(EdgeshrinkError):
    """An optimize output folder's report.json is missing, unreadable, or from a newer edgeshrink."""


class BundleError(EdgeshrinkError):
    """A web bundle could not be built, served or verified."""


def reason(exc: BaseException) -> str:
    """A third-party exception as one line for a message: its type and the first line of its text."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
