"""The gallery's digits in fewer grey levels: what samples.bin weighs, how far a pixel moves, how the gallery
looks and scores.

For each level count, the LeNet-5 `max` page (the optimized model alone) is bundled with `gallery_levels`; the
gallery as the page shows it is photographed on a desktop (1180 px wide) and a 390 px phone (device scale 3),
each level count beside the exact one, and "Classify all" is clicked. Prints a Markdown table; the PNGs go
to OUT.

    python bench/gallery_levels.py [--model out/bench/max] [--levels 256,16,8,4] [--out /tmp/gallery]
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image

from edgeshrink import data
from edgeshrink.web import bundle
from edgeshrink.web.assemble import gallery
from edgeshrink.web.assemble.variants import from_optimize_output
from edgeshrink.web.check.browser import Watch, chromium, open_page, settle
from edgeshrink.web.check.serve import running

SCREENS = {"desktop": ({"width": 1180, "height": 900}, 1), "phone": ({"width": 390, "height": 844}, 3)}
SAMPLES = 100


def shots(browser, dist: Path) -> tuple[dict[str, np.ndarray], str]:
    """The gallery (#gallery) on each screen as RGB pixels, and what "Classify all" said."""
    pictures, score = {}, ""
    with running(dist) as url:
        for screen, (viewport, scale) in SCREENS.items():
            context = browser.new_context(viewport=viewport, device_scale_factor=scale)
            page = open_page(context, url, Watch(url))
            assert settle(page, "window.edgeshrink.galleryLoaded") == ["ok", True]
            png = page.locator("#gallery").screenshot(type="png")
            pictures[screen] = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
            if not score:
                page.click("#run-all")
                page.wait_for_function("() => document.getElementById('gallery-score').textContent.includes(' right ')")
                score = page.locator("#gallery-score").inner_text()
            context.close()
    return pictures, score


def beside(left: np.ndarray, right: np.ndarray, gap: int = 12) -> Image.Image:
    """Two pictures side by side on white."""
    height = max(left.shape[0], right.shape[0])
    canvas = np.full((height, left.shape[1] + gap + right.shape[1], 3), 255, np.uint8)
    canvas[:left.shape[0], :left.shape[1]] = left
    canvas[:right.shape[0], left.shape[1] + gap:] = right
    return Image.fromarray(canvas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="out/bench/max", help="an `edgeshrink optimize` output folder")
    parser.add_argument("--levels", default="256,16,8,4")
    parser.add_argument("--out", default="/tmp/gallery")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    levels = [int(n) for n in args.levels.split(",")]
    exact = data.load("test").take(SAMPLES).images
    rows, pictures = [], {}
    with chromium() as browser:
        for n in levels:
            result = bundle(from_optimize_output(args.model, baseline=False), out / f"dist-{n}", runtime="compiled",
                            samples=SAMPLES, gallery_levels=n, force=True)
            samples = (result.out_dir / "samples.bin.br").stat().st_size
            moved = int(np.abs(gallery.rounded(exact, n).astype(int) - exact).max())
            pictures[n], score = shots(browser, result.out_dir)
            rows.append((n, samples, moved, result.first_visit["total"]["brotli"], score))
    reference = max(levels)
    print("| grey levels | samples.bin brotli | largest pixel change | whole first visit (brotli) | "
          + " | ".join(f"largest screenshot difference, {s}" for s in SCREENS) + " | Classify all |")
    print("|---:|---:|---:|---:|" + "---:|" * len(SCREENS) + "---|")
    for n, samples, moved, visit, score in rows:
        diffs = []
        for screen in SCREENS:
            mine, theirs = pictures[n][screen], pictures[reference][screen]
            Image.fromarray(mine).save(out / f"gallery-{n}-{screen}.png")
            if n != reference:
                beside(theirs, mine).save(out / f"gallery-{reference}-vs-{n}-{screen}.png")
            same = mine.shape == theirs.shape
            diffs.append(str(int(np.abs(mine.astype(int) - theirs).max())) if same else "size differs")
        print(f"| {n} | {samples:,} B | {moved} | {visit:,} B | {' | '.join(diffs)} | {score} |")


if __name__ == "__main__":
    main()
