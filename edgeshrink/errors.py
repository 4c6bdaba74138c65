"""Errors a user can act on. Each message is one line: what is wrong, then how to fix it."""

import errno
import signal


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


class UnsupportedModel(EdgeshrinkError):
    """The compiled runtime cannot run this model (the reason names the operator or the missing tool)."""


def reason(exc: BaseException) -> str:
    """A third-party exception as one line for a message: its type and the first line of its text."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class OutputError(EdgeshrinkError):
    """An output path cannot be written without destroying something edgeshrink did not write."""


class OSFailure(EdgeshrinkError):
    """The operating system refused a file or network operation (its reason and a fix in the message)."""

    def __init__(self, message: str, errno: int | None = None):
        super().__init__(message)
        self.errno = errno  # kept so callers can tell a full disk from a bad path


class Killed(EdgeshrinkError):
    """A child process was ended by a signal: the out-of-memory killer's SIGKILL, or someone's kill."""


def check_exit(returncode: int, what: str) -> None:
    """Raise Killed when a child process (`what`) ended by a signal rather than by exiting."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        raise Killed(f"{what} was killed by {name} (the out-of-memory killer, or someone); free some memory "
                     "and run again")


# errno -> (what it means, how to fix it); the classes of failure a user can act on.
_OS_FIXES = {
    errno.ENOENT: ("does not exist", "check the path"),
    errno.EEXIST: ("already exists", "choose another path or remove it"),
    errno.ENOTDIR: ("has a file where a folder is expected", "choose a path whose parents are all folders"),
    errno.EISDIR: ("is a folder", "pass a file path"),
    errno.EACCES: ("is not accessible (permission denied)", "choose a path you may write to or change its permissions"),
    errno.EPERM: ("is not accessible (operation not permitted)", "choose another path or change its permissions"),
    errno.EROFS: ("is on a read-only file system", "choose a writable location"),
    errno.ENOSPC: ("cannot be written: no space left on the device", "free some disk space and run again"),
    errno.EDQUOT: ("cannot be written: disk quota exceeded", "free some space and run again"),
    errno.EFBIG: ("cannot be written: the file is too large for this file system", "choose another location"),
    errno.ENAMETOOLONG: ("has a name that is too long", "choose a shorter path"),
    errno.ELOOP: ("is a loop of symbolic links", "fix the links or pass another path"),
    errno.EMFILE: ("cannot be opened: too many open files", "raise the limit with 'ulimit -n'"),
    errno.ENOTEMPTY: ("is a folder that is not empty", "choose an empty or new folder"),
    errno.EXDEV: ("is on another file system than its temporary copy", "choose a folder on one file system"),
    errno.EADDRINUSE: ("is already in use", "pass another port"),
    errno.EADDRNOTAVAIL: ("is not an address of this machine", "pass another host"),
    errno.EIO: ("cannot be read or written: input/output error", "check the disk"),
}


def from_os_error(exc: OSError) -> OSFailure:
    """One line for anything the operating system can say: the path, what is wrong and the fix."""
    what, fix = _OS_FIXES.get(exc.errno, (f"failed: {exc.strerror or exc}", "check the path and try again"))
    subject = exc.filename if exc.filename is not None else "the operation"
    if exc.filename2 is not None:
        subject = f"{exc.filename} -> {exc.filename2}"
    return OSFailure(f"{subject} {what}; {fix}", exc.errno)


class SearchError(EdgeshrinkError):
    """A search cannot start or continue: empty space, unreachable database, a study of another model."""
