"""The frontier rendered: one Table (terminal, Markdown, CSV), JSON, two plots as PNG, and one HTML page
with the plots inline as SVG (no request to any other origin)."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

from edgeshrink.atomic import write_text
from edgeshrink.search.frontier.measure import Point
from edgeshrink.tables import Table, csv_text, markdown

KIND_STYLE = {"pareto": ("o", "#1f77b4"), "recipe": ("s", "#d62728"), "input": ("*", "#2ca02c")}


def frontier_table(points: list[Point], networks: tuple[str, ...]) -> Table:
    """Bytes are brotli unless 'wire' (what the page received, measured); ms/digit in Chromium (Node beside)."""
    columns = ["model", "kind", "arch", "test acc", "params", "runtime", "model B", "runtime+model B", "wire B",
               "ms/digit", "node ms/digit"] + [f"first {n} ms" for n in networks]
    rows = []
    for p in sorted(points, key=lambda p: (p.transfer_brotli, -p.test_accuracy)):
        rows.append([p.name, p.kind, p.arch, f"{100 * p.test_accuracy:.2f}%", f"{p.params_nonzero:,}", p.runtime,
                     f"{p.model_brotli:,}", f"{p.transfer_brotli:,}", f"{p.first_visit_bytes:,}",
                     f"{p.browser_latency_ms:.3f}", f"{p.node_latency_ms:.3f}"]
                    + [f"{p.first_prediction_ms.get(n, float('nan')):,.0f}" for n in networks])
    numeric = set(columns[3:5]) | set(columns[6:])
    return Table("frontier (re-measured on the 10,000 test images and in Chromium)", columns, rows, numeric)


def plots(points: list[Point], network: str = "4g") -> dict[str, "object"]:
    """Two matplotlib figures: accuracy vs first-visit bytes, accuracy vs time to first prediction."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from edgeshrink.search.frontier.labels import place

    figures = {}
    for key, label, value in (
        ("accuracy-vs-bytes", "first-visit transfer, brotli (KiB, runtime + model)", lambda p: p.transfer_brotli / 1024),
        (f"accuracy-vs-first-prediction-{network}", f"time to first prediction on {network} (ms)",
         lambda p: p.first_prediction_ms.get(network)),
    ):
        fig, ax = plt.subplots(figsize=(8, 5.2), dpi=110)
        shown = [p for p in points if value(p) is not None]
        for kind, (marker, color) in KIND_STYLE.items():
            chosen = [p for p in shown if p.kind == kind]
            if chosen:
                ax.scatter([value(p) for p in chosen], [100 * p.test_accuracy for p in chosen], marker=marker,
                           color=color, s=70 if kind != "pareto" else 40, label=_legend(kind), zorder=3)
        xs = [value(p) for p in shown]
        if xs and min(xs) > 0 and max(xs) / min(xs) > 20:  # tiny CNNs beside onnxruntime-web's megabytes
            ax.set_xscale("log")
        ax.margins(x=0.12, y=0.12)  # room for the labels of the outermost points
        ax.set_xlabel(label + (", log scale" if ax.get_xscale() == "log" else ""))
        ax.set_ylabel("test accuracy (%, 10,000 MNIST test images)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8, frameon=False)
        fig.tight_layout()
        place(ax, [(value(p), 100 * p.test_accuracy, _label(p)) for p in shown])
        figures[key] = fig
    return figures


def _label(p: Point) -> str:
    """The variant name, and the architecture a Pareto trial started from."""
    return f"{p.name} {p.arch}" if p.kind == "pareto" and p.arch != "input" else p.name


def _legend(kind: str) -> str:
    return {"pareto": "Pareto front of the search", "recipe": "shipped recipe", "input": "input model"}[kind]


def write_all(points: list[Point], folder: Path, networks: tuple[str, ...], answer_text: str) -> list[Path]:
    """frontier.{md,csv,json}, one PNG per plot and frontier.html; returns the paths written."""
    from matplotlib import pyplot as plt

    table = frontier_table(points, networks)
    written = [
        write_text(folder / "frontier.md", markdown(table) + f"\n{answer_text}\n"),
        write_text(folder / "frontier.csv", csv_text(table)),
        write_text(folder / "frontier.json", json.dumps({"points": [p.to_dict() for p in points],
                                                         "answer": answer_text}, indent=1) + "\n"),
    ]
    svgs = {}
    for key, fig in plots(points, "4g" if "4g" in networks else networks[-1]).items():
        fig.savefig(folder / f"{key}.png")
        written.append(folder / f"{key}.png")
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        svgs[key] = _inline_svg(buf.getvalue())
        plt.close(fig)
    written.append(write_text(folder / "frontier.html", page(table, svgs, answer_text)))
    return written


def _inline_svg(svg: str) -> str:
    """The <svg> element alone: no XML declaration or DOCTYPE (whose DTD URL a strict reader might fetch)."""
    return svg[svg.index("<svg"):]


def page(table: Table, svgs: dict[str, str], answer_text: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in table.rows)
    figures = "".join(f"<figure>{svg}<figcaption>{html.escape(key)}</figcaption></figure>" for key, svg in svgs.items())
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgeshrink search: the frontier</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}figure{{display:inline-block;margin:0 1em 1em 0}}
svg{{max-width:100%;height:auto}}</style></head><body>
<h1>edgeshrink search: the frontier</h1><p>{html.escape(answer_text)}</p>{figures}
<h2>{html.escape(table.title)}</h2><table><tr>{head}</tr>{body}</table></body></html>
"""
    return re.sub(r"[ \t]+\n", "\n", text)
