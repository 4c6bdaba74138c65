"""Exit codes of the `edgeshrink` command, documented in `--help` and the README."""

OK = 0
FAILURE = 1  # a one-line error: bad input, a file that cannot be read or written, a pass that failed
USAGE = 2  # the command line itself is wrong (unknown option, missing argument, value out of range)
OVER_BUDGET = 3  # optimize finished, but a step broke the accuracy budget; model.opt.onnx is the last good one
BUG = 70  # an unexpected error inside edgeshrink (sysexits' EX_SOFTWARE); --debug shows the traceback
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it

EPILOG = (f"Exit codes: {OK} done, {FAILURE} error (one line says what and how to fix it), {USAGE} bad command "
          f"line, {OVER_BUDGET} optimize stopped over the accuracy budget, {INTERRUPTED} interrupted, "
          f"{BUG} internal error (--debug shows the traceback).")
