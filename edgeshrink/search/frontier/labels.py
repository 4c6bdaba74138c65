"""Point labels of a scatter plot placed so they neither overlap each other nor cover a marker.

Greedy, as a reader would do it by hand: each label tries the spots around its point, nearest first, and
takes the first that stays inside the axes and clear of the markers and the labels already placed; when
none is clear, the spot with the least overlap, joined to its point by a thin line.
"""

from __future__ import annotations

# Offsets in points from the marker, nearest first: beside it (right, left; up, down), then rows further up
# and down (a label's height apart), so a cluster's labels stack into a readable column.
_SPOTS = sorted(((dx * (1 + k / 3), dy * (3 + 9 * k)) for k in range(10) for dx in (5, -5) for dy in (1, -1)),
                key=lambda s: s[0] ** 2 + s[1] ** 2)
MARKER_PX = 6  # half the side of the box a marker occupies, in pixels


def place(ax, points: list[tuple[float, float, str]], fontsize: float = 7) -> list:
    """Annotate each (x, y, text) in data coordinates; returns the annotations. Call after the layout is final."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    frame = (frame.x0, frame.y0, frame.x1, frame.y1)
    markers = [_box(*ax.transData.transform((x, y)), MARKER_PX) for x, y, _ in points]
    taken: list[tuple[float, float, float, float]] = []
    out = []
    for i, (x, y, text) in enumerate(points):
        best = None
        for dx, dy in _SPOTS:
            note = _note(ax, text, (x, y), dx, dy, fontsize)
            box = _text_box(note, renderer)
            cost = sum(_overlap(box, m) for j, m in enumerate(markers) if j != i) + sum(_overlap(box, t) for t in taken)
            cost += _outside(box, frame) * 10
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, note, box)
            else:
                note.remove()
            if cost == 0:
                break
        taken.append(best[2])
        out.append(best[1])
    return out


def _note(ax, text: str, xy, dx: float, dy: float, fontsize: float):
    """A label offset by (dx, dy) points; one moved off its point's row gets a thin line back to it."""
    arrow = {"arrowstyle": "-", "color": "0.6", "lw": 0.6, "shrinkA": 0, "shrinkB": 3} if abs(dy) > 3 else None
    return ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                       ha="left" if dx > 0 else "right", va="bottom" if dy > 0 else "top", arrowprops=arrow)


def _text_box(note, renderer) -> tuple[float, float, float, float]:
    from matplotlib.text import Text

    note.update_positions(renderer)  # what Annotation.get_window_extent does before measuring
    bb = Text.get_window_extent(note, renderer)  # the text alone, without its leader line
    return bb.x0, bb.y0, bb.x1, bb.y1


def overlaps(notes: list, renderer) -> int:
    """How many pairs of the annotations' text boxes overlap (what a test checks); leader lines may cross."""
    boxes = [_text_box(n, renderer) for n in notes]
    return sum(_overlap(a, b) > 0 for k, a in enumerate(boxes) for b in boxes[k + 1:])


def _box(x: float, y: float, half: float) -> tuple[float, float, float, float]:
    return x - half, y - half, x + half, y + half


def _overlap(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _outside(box, frame) -> float:
    """The area of `box` outside `frame`."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    return area - _overlap(box, frame)
