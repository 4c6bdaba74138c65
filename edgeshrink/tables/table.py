"""Turn results into plain tables that every renderer (terminal, Markdown, CSV) shares."""

from __future__ import annotations

from dataclasses import dataclass

from edgeshrink.evaluate import FLOAT, Evaluation
from edgeshrink.params import parameters
from edgeshrink.passes.base import PassSpec


@dataclass(frozen=True)
class Table:
    """A titled grid of already-formatted cells; `numeric` marks right-aligned columns."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    numeric: set[str]


def kib(n: int) -> str:
    return f"{n / 1024:,.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.2f} MiB"


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def ratio(base: float, value: float) -> str:
    """How many times smaller (or faster) `value` is than `base`: 4.0x means a quarter."""
    return f"{base / value:.1f}x" if value else "-"


def _faster(base: Evaluation, ev: Evaluation) -> str:
    return ratio(base.latency.median_ms, ev.latency.median_ms) if base.latency and ev.latency else "-"


def _edge_faster(base: Evaluation, ev: Evaluation) -> str:
    ok = base.edge and ev.edge and base.edge.median_ms and ev.edge.median_ms
    return ratio(base.edge.median_ms, ev.edge.median_ms) if ok else "-"


def ms(latency) -> str:
    if latency is None:
        return "-"
    suffix = "" if latency.batch == 1 else f" (batch {latency.batch})"
    return f"{latency.median_ms:.3f} ms{suffix}"


def edge_ms(edge) -> str:
    """The compiled runtime's per-digit latency, or why the model does not compile."""
    if edge is None:
        return "-"
    if edge.median_ms is None:
        return f"not compiled: {edge.reason}"
    return f"{edge.median_ms:.3f} ms" + (" (wasmtime: no Node)" if edge.timer != "Node" else "")


def _edge_detail(edge) -> str:
    if edge is None:
        return "-"
    if edge.median_ms is None:
        return f"not compiled: {edge.reason}"
    timer = "in Node (V8)" if edge.timer == "Node" else "in wasmtime (no Node on this machine)"
    return (f"median {edge.median_ms:.3f} ms, p90 {edge.p90_ms:.3f} ms over {edge.runs} runs {timer}; "
            f"wasm {edge.wasm_bytes:,} B ({edge.wasm_brotli:,} B brotli, {edge.build} build)")


def _edge_accuracy(ev: Evaluation) -> str:
    edge = ev.edge
    if edge is not None and edge.median_ms is None:
        return f"not compiled: {edge.reason}"
    if edge is None or edge.accuracy is None:
        return "-"
    same = "the same as" if round(edge.accuracy * ev.total) == ev.correct else "differs from"
    return f"{pct(edge.accuracy)} (the page's wasm, run by wasmtime; {same} onnxruntime's)"


def evaluation_table(ev: Evaluation) -> Table:
    sig = ev.signature
    lat = ev.latency
    rows = [
        ["accuracy", f"{pct(ev.accuracy)} ({ev.correct:,}/{ev.total:,} MNIST test images)"],
        ["parameters", f"{ev.params_total:,} total, {ev.params_nonzero:,} non-zero"],
        ["size", f"{ev.size.raw:,} B raw, {ev.size.gzip:,} B gzip -9, {ev.size.brotli:,} B brotli"],
        ["arithmetic", arithmetic(ev)],
        ["latency (ORT CPU, 1 thread)", "-" if lat is None else
         f"median {lat.median_ms:.3f} ms, p90 {lat.p90_ms:.3f} ms at batch {lat.batch} over {lat.runs} runs"],
        ["accuracy (compiled wasm)", _edge_accuracy(ev)],
        ["latency (compiled wasm)", _edge_detail(ev.edge)],
        ["throughput (1 thread)", "-" if lat is None else
         f"{lat.throughput_ips:,.0f} images/s at batch {lat.throughput_batch}"],
        ["input", f"{sig.input_name} {sig.layout} batch={_batch(sig.batch)} {sig.dtype}"],
        ["preprocessing", f"{sig.preprocess.name} ({ev.preprocess_source})"],
        ["output", f"#{sig.output_index} {sig.output_name} ({sig.output_kind})"],
        ["operators", ", ".join(f"{op}:{n}" for op, n in ev.op_histogram.items())],
        ["nodes / opset / producer", f"{ev.nodes} / {ev.opset} / {ev.producer or '-'}"],
    ]
    return Table(ev.name, ["measure", "value"], rows, set())


def arithmetic(ev: Evaluation) -> str:
    """What computed the accuracy, and what onnxruntime's default kernels give where they differ on this CPU."""
    if ev.engine in ("", FLOAT):
        return "float (onnxruntime)" if ev.engine else "-"  # '': a report from before engines were recorded
    text = f"exact int8 ({ev.engine})"
    if ev.native is not None:
        text += (f"; onnxruntime's default kernels on this CPU: {pct(ev.native.accuracy)}, "
                 f"{ev.native.differing:,} classes differ")
    return text


def _batch(batch: int | None) -> str:
    return "dynamic" if batch is None else ("none" if batch == 0 else str(batch))


COMPARE_COLUMNS = ["model", "accuracy", "change", "params", "non-zero", "bytes", "gzip", "brotli",
                   "latency", "edge latency", "smaller (gzip)", "faster", "edge faster"]


def compare_table(evs: list[Evaluation], title: str = "comparison") -> Table:
    """One row per model, with change and ratios against the first."""
    base = evs[0]
    rows = []
    for ev in evs:
        rows.append([
            ev.name, pct(ev.accuracy), f"{100 * (ev.accuracy - base.accuracy):+.2f} pt",
            f"{ev.params_total:,}", f"{ev.params_nonzero:,}", f"{ev.size.raw:,}", f"{ev.size.gzip:,}",
            f"{ev.size.brotli:,}", ms(ev.latency), edge_ms(ev.edge), ratio(base.size.gzip, ev.size.gzip),
            _faster(base, ev), _edge_faster(base, ev),
        ])
    return Table(title, COMPARE_COLUMNS, rows, set(COMPARE_COLUMNS[1:]))


STEP_COLUMNS = ["step", "status", "accuracy", "change", "params", "non-zero", "bytes", "gzip", "latency",
                "edge latency", "nodes", "smaller (raw)", "smaller (gzip)", "faster", "edge faster", "seconds"]


def steps_table(report) -> Table:
    """One row per pipeline step (the input first), with ratios against the input model."""
    base = report.baseline
    rows = [_step_row("0 input", "input", base, base, 0.0)]
    for step in report.steps:
        rows.append(_step_row(f"{step.position} {step.name}", step.status, step.evaluation, base, step.seconds))
    floor = f", floor {report.min_accuracy:g}%" if report.min_accuracy is not None else ""
    title = f"{report.model}: recipe '{report.recipe}', budget {report.max_drop:g} pt{floor}"
    return Table(title, STEP_COLUMNS, rows, set(STEP_COLUMNS[2:]))


def outcome(report) -> str:
    """One sentence: did the recipe complete, and if not, which step broke the budget by how much."""
    if report.completed:
        return f"recipe '{report.recipe}' completed; final model {report.final}"
    step = next(s for s in report.steps if s.position == report.stopped_at)
    drop = 100 * (report.baseline.accuracy - step.evaluation.accuracy)
    floor = report.min_accuracy
    if floor is not None and 100 * step.evaluation.accuracy < floor:
        return (f"recipe '{report.recipe}' stopped: step {step.position} ({step.name}) measured "
                f"{100 * step.evaluation.accuracy:.2f}%, below the {floor:g}% floor; {report.final} is the last "
                "model within budget")
    return (f"recipe '{report.recipe}' stopped: step {step.position} ({step.name}) lost {drop:.2f} pt, over the "
            f"{report.max_drop:g} pt budget by {drop - report.max_drop:.2f} pt; {report.final} is the last model "
            "within budget")


def _step_row(label: str, status: str, ev: Evaluation, base: Evaluation, seconds: float) -> list[str]:
    return [
        label, status, pct(ev.accuracy), f"{100 * (ev.accuracy - base.accuracy):+.2f} pt",
        f"{ev.params_total:,}", f"{ev.params_nonzero:,}", f"{ev.size.raw:,}", f"{ev.size.gzip:,}",
        ms(ev.latency), edge_ms(ev.edge), str(ev.nodes), ratio(base.size.raw, ev.size.raw),
        ratio(base.size.gzip, ev.size.gzip), _faster(base, ev), _edge_faster(base, ev), f"{seconds:.1f}",
    ]


def passes_table(specs: list[PassSpec]) -> Table:
    """Each registered pass, then one row per parameter: the values it takes, its default and its help."""
    rows = []
    for spec in specs:
        rows.append([spec.name, "", "", "", spec.summary])
        for p in parameters(spec.config):
            rows.append(["", p.name, p.values, _yaml(p.default), p.help])
    return Table("passes", ["pass", "parameter", "values", "default", "what it does"], rows, set())


def _yaml(value) -> str:
    """A default as a recipe would spell it."""
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
