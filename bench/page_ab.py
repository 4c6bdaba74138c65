"""Two or more bundles of the same model side by side: time to the first answer in fresh browser contexts.

    python bench/page_ab.py DIST_A DIST_B [...] [--rounds 30] [--profile localhost|4g|slow-4g]

Each round loads every bundle once, and the empty page (timing.EMPTY_PAGE: the floor the browser sets), in a
random order, in a fresh context (empty cache) under the profile (localhost by default), so a
slow minute of a shared machine slows all of them alike; the first is the reference, and the table gives
each bundle's medians and its median paired difference from the reference. Two times per load: the answer
in the page (the page's own timestamp, as `verify` reports it) and on screen (the frame that showed it,
Chromium's Element Timing). For changes to the page itself; `bench/browser.py` measures the models.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
from pathlib import Path

from edgeshrink.web.check import timing
from edgeshrink.web.check.browser import Watch, chromium
from edgeshrink.web.check.serve import running

EMPTY = "the empty page"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dists", nargs="+", help="bundle folders (edgeshrink bundle -o DIST), the first the reference")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--profile", default="localhost", choices=list(timing.PROFILES))
    args = parser.parse_args()
    localhost = timing.PROFILES[args.profile]
    with chromium() as browser, contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as empty:
        args.dists.append(EMPTY)
        urls = {dist: stack.enter_context(running(dist if dist != EMPTY else timing.empty_page(Path(empty))))
                for dist in args.dists}
        for url in urls.values():  # one load each first, not counted: the browser's own first start
            timing.load_once(browser, url, "", localhost, Watch(url))
        loads = {dist: [] for dist in args.dists}
        for _ in range(args.rounds):
            for dist in random.sample(args.dists, len(args.dists)):
                loads[dist].append(timing.load_once(browser, urls[dist], "", localhost, Watch(urls[dist]))[0])
    print(f"| bundle | in the page | on screen | paired difference: in the page | on screen |  "
          f"({args.rounds} rounds, {args.profile})")
    print("|---|---:|---:|---:|---:|")
    reference = loads[args.dists[0]]
    for dist, runs in loads.items():
        cells = []
        for field in ("first_prediction_ms", "first_shown_ms"):
            values, base = [getattr(load, field) for load in runs], [getattr(load, field) for load in reference]
            median = "-" if None in values else f"{statistics.median(values):.0f} ms"
            diffs = None if None in values + base else [a - b for a, b in zip(values, base)]
            paired = "-" if diffs is None else f"{statistics.median(diffs):+.0f} ms"
            cells.append((median, paired))
        print(f"| {dist} | {cells[0][0]} | {cells[1][0]} | {cells[0][1]} | {cells[1][1]} |")


if __name__ == "__main__":
    main()
