"""Plot labels: crowded points get labels that do not overlap one another and stay inside the axes."""

from __future__ import annotations

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from edgeshrink.search.frontier import labels  # noqa: E402

# Seven models within a few ms and a tenth of a point of each other, and one far away.
CROWD = [(650 + 3 * i, 98.5 + 0.01 * (i % 3), f"t{i:04d} lenet5@0.5") for i in range(7)] + [(900, 97.0, "input")]


def _axes():
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.scatter([x for x, _, _ in CROWD], [y for _, y, _ in CROWD])
    ax.margins(x=0.12, y=0.12)
    fig.tight_layout()
    return fig, ax


def test_fixed_offsets_would_overlap():  # the case is crowded enough for the next test to mean something
    fig, ax = _axes()
    notes = [ax.annotate(t, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7) for x, y, t in CROWD]
    fig.canvas.draw()
    assert labels.overlaps(notes, fig.canvas.get_renderer()) > 3
    plt.close(fig)


def test_placed_labels_do_not_overlap_and_stay_inside():
    fig, ax = _axes()
    notes = labels.place(ax, CROWD)
    renderer = fig.canvas.get_renderer()
    assert [n.get_text() for n in notes] == [t for _, _, t in CROWD]
    assert labels.overlaps(notes, renderer) == 0
    frame = ax.get_window_extent(renderer)
    for note in notes:
        box = Text.get_window_extent(note, renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    plt.close(fig)
