"""How numbers are rendered for users: exact cells of the evaluate, compare and steps tables, the outcome
sentence, and the Markdown/CSV/JSON files, from hand-made results whose every figure is known."""

from __future__ import annotations

import json

import pytest

from edgeshrink.core.signature import PRESETS, Signature
from edgeshrink.evaluate import EdgeLatency, Evaluation, Latency
from edgeshrink.pipeline import PipelineReport, StepResult
from edgeshrink.size import Size
from edgeshrink.tables import Table, compare_table, csv_text, evaluation_table, markdown, outcome, steps_table
from edgeshrink.tables.table import STEP_COLUMNS, kib, pct, ratio

SIG = Signature("input", "NCHW", None, "float32", PRESETS["mnist"], 0, "logits", "logits")


def ev(name="m.onnx", correct=9927, raw=400_000, gzip=100_000, brotli=90_000, ms=0.2, edge_ms=0.1, params=1000,
       nonzero=900, batch=1, edge=True) -> Evaluation:
    latency = Latency(ms, ms * 1.5, batch, 60, 12_345.6, 256) if ms is not None else None
    compiled = EdgeLatency(edge_ms, edge_ms * 2, 300, 20_480, 5_120) if edge else None
    return Evaluation(name, correct / 10_000, correct, 10_000, params, nonzero, Size(raw, gzip, brotli), latency,
                      12, {"Conv": 2, "Relu": 3}, 17, "pytorch 2.13.0", SIG, edge=compiled)


def test_number_helpers():
    assert pct(0.98765) == "98.77%" and pct(1.0) == "100.00%" and pct(0.0) == "0.00%"
    assert ratio(400, 100) == "4.0x" and ratio(1, 3) == "0.3x" and ratio(5, 0) == "-"
    assert kib(1536) == "1.5 KiB" and kib(1024 * 1024 - 1) == "1,024.0 KiB" and kib(3 * 1024 * 1024) == "3.00 MiB"


def test_evaluation_table_cells():
    rows = dict(evaluation_table(ev(correct=9807)).rows)
    assert rows["accuracy"] == "98.07% (9,807/10,000 MNIST test images)"
    assert rows["parameters"] == "1,000 total, 900 non-zero"
    assert rows["size"] == "400,000 B raw, 100,000 B gzip -9, 90,000 B brotli"
    assert rows["latency (ORT CPU, 1 thread)"] == "median 0.200 ms, p90 0.300 ms at batch 1 over 60 runs"
    assert rows["latency (compiled wasm)"] == ("median 0.100 ms, p90 0.200 ms over 300 runs in Node (V8); "
                                               "wasm 20,480 B (5,120 B brotli, fast build)")
    assert rows["throughput (1 thread)"] == "12,346 images/s at batch 256"
    assert rows["input"] == "input NCHW batch=dynamic float32"
    assert rows["preprocessing"] == "mnist (metadata)" and rows["output"] == "#0 logits (logits)"
    assert rows["operators"] == "Conv:2, Relu:3" and rows["nodes / opset / producer"] == "12 / 17 / pytorch 2.13.0"


def test_evaluation_table_without_measurements():
    bare = ev(ms=None, edge=False)
    rows = dict(evaluation_table(bare).rows)
    assert rows["latency (ORT CPU, 1 thread)"] == "-" and rows["throughput (1 thread)"] == "-"
    assert rows["latency (compiled wasm)"] == "-" and rows["accuracy (compiled wasm)"] == "-"
    failed = EdgeLatency(None, None, 0, 0, 0, "Loop is not supported")
    rows = dict(evaluation_table(Evaluation(**{**bare.__dict__, "edge": failed})).rows)
    assert rows["latency (compiled wasm)"] == "not compiled: Loop is not supported"


@pytest.mark.parametrize("batch, text", [(None, "dynamic"), (0, "none"), (10, "10")])
def test_batch_words(batch, text):
    sig = Signature("x", "NCHW", batch, "float32", PRESETS["unit"])
    assert dict(evaluation_table(Evaluation(**{**ev().__dict__, "signature": sig})).rows)["input"] == \
        f"x NCHW batch={text} float32"


def test_compare_table_changes_and_ratios_against_the_first():
    table = compare_table([ev("a", 9927), ev("b", 9880, gzip=25_000, ms=0.1, edge_ms=0.05, batch=10)])
    a, b = (dict(zip(table.columns, row)) for row in table.rows)
    assert a["change"] == "+0.00 pt" and a["smaller (gzip)"] == "1.0x" and a["faster"] == "1.0x"
    assert b["accuracy"] == "98.80%" and b["change"] == "-0.47 pt"
    assert b["smaller (gzip)"] == "4.0x" and b["faster"] == "2.0x" and b["edge faster"] == "2.0x"
    assert b["latency"] == "0.100 ms (batch 10)" and a["latency"] == "0.200 ms" and b["edge latency"] == "0.050 ms"
    assert (b["params"], b["non-zero"], b["bytes"], b["gzip"], b["brotli"]) == ("1,000", "900", "400,000", "25,000", "90,000")
    assert table.numeric == set(table.columns[1:])
    gained = compare_table([ev("a", 9800), ev("b", 9801, ms=None, edge=False)])
    row = dict(zip(gained.columns, gained.rows[1]))
    assert row["change"] == "+0.01 pt" and row["faster"] == "-" and row["edge faster"] == "-"


def _report(stopped: bool, min_accuracy=None) -> PipelineReport:
    base = ev("input", 9927)
    steps = [StepResult(1, "prune", {"sparsity": 0.5}, ev("01", 9910, raw=200_000, gzip=50_000), 12.34, "01-prune.onnx",
                        "ok", ["kept conv1 whole"])]
    if stopped:
        steps.append(StepResult(2, "quantize", {}, ev("02", 9870, raw=100_000, gzip=20_000), 3.0, "02-quantize.onnx",
                                "over budget"))
    return PipelineReport("lenet.onnx", "default", 0.5, base, steps, min_accuracy=min_accuracy, folder="out",
                          final="model.opt.onnx", stopped_at=2 if stopped else None)


def test_steps_table_rows():
    table = steps_table(_report(stopped=True))
    assert table.title == "lenet.onnx: recipe 'default', budget 0.5 pt"
    rows = [dict(zip(table.columns, row)) for row in table.rows]
    assert [r["step"] for r in rows] == ["0 input", "1 prune", "2 quantize"]
    assert [r["status"] for r in rows] == ["input", "ok", "over budget"]
    assert [r["change"] for r in rows] == ["+0.00 pt", "-0.17 pt", "-0.57 pt"]
    assert [r["smaller (raw)"] for r in rows] == ["1.0x", "2.0x", "4.0x"]
    assert [r["smaller (gzip)"] for r in rows] == ["1.0x", "2.0x", "5.0x"]
    assert [r["seconds"] for r in rows] == ["0.0", "12.3", "3.0"]
    assert rows[1]["nodes"] == "12" and rows[1]["accuracy"] == "99.10%"
    assert steps_table(_report(True, 99.0)).title == "lenet.onnx: recipe 'default', budget 0.5 pt, floor 99%"


def test_outcome_sentences():
    assert outcome(_report(stopped=False)) == "recipe 'default' completed; final model model.opt.onnx"
    assert outcome(_report(stopped=True)) == (
        "recipe 'default' stopped: step 2 (quantize) lost 0.57 pt, over the 0.5 pt budget by 0.07 pt; "
        "model.opt.onnx is the last model within budget")
    assert outcome(_report(True, 98.8)) == (
        "recipe 'default' stopped: step 2 (quantize) measured 98.70%, below the 98.8% floor; "
        "model.opt.onnx is the last model within budget")
    assert "lost 0.57 pt" in outcome(_report(True, 98.7))  # exactly at the floor: the drop is what broke it


def test_markdown_and_csv():
    table = steps_table(_report(stopped=False))
    md = markdown(table).splitlines()
    assert md[0] == "### lenet.onnx: recipe 'default', budget 0.5 pt" and md[1] == ""
    assert md[2].startswith("| step | status | accuracy |") and md[3].startswith("| --- | --- | ---: | ---: |")
    assert md[5].startswith("| 1 prune | ok | 99.10% | -0.17 pt |") and len(md) == 6
    text = csv_text(table).splitlines()
    assert text[0].startswith("step,status,accuracy,change") and text[2].startswith('1 prune,ok,99.10%,-0.17 pt,"1,000",900,')
    assert markdown(Table("t", ["x"], [["a | b"]], set())).splitlines()[-1] == "| a \\| b |"


def test_report_files_hold_the_numbers_not_their_rendering(tmp_path):
    report = _report(stopped=True)
    report.write(tmp_path)
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["completed"] is False and doc["stopped_at"] == 2 and doc["max_drop"] == 0.5
    assert doc["steps"][1]["evaluation"]["correct"] == 9870 and doc["steps"][1]["evaluation"]["accuracy"] == 0.987
    assert doc["outcome"] == outcome(report)
    md = (tmp_path / "report.md").read_text()
    assert md.endswith(f"\n{outcome(report)}.\n\n- step 1 (prune): kept conv1 whole\n")
    assert (tmp_path / "report.csv").read_text() == csv_text(steps_table(report))
    _report(stopped=False).write(tmp_path)
    assert (tmp_path / "report.md").read_text().endswith("final model model.opt.onnx.\n\n- step 1 (prune): kept conv1 whole\n")


def test_sizes_in_kib_and_mib_at_the_boundary():
    assert kib(1024 * 1024 - 103) == "1,023.9 KiB" and kib(1024 * 1024) == "1.00 MiB"
    assert kib(100 * 1024 * 1024) == "100.00 MiB"


def test_missing_measurements_render_as_a_dash_in_every_table():
    from edgeshrink.tables.table import edge_ms, ms

    assert ms(None) == "-" and edge_ms(None) == "-"
    assert edge_ms(EdgeLatency(None, None, 0, 0, 0, "Loop")) == "not compiled: Loop"
    bare = ev("b", ms=None, edge=False)
    assert dict(evaluation_table(Evaluation(**{**bare.__dict__, "producer": ""})).rows)["nodes / opset / producer"] \
        == "12 / 17 / -"
    report = _report(stopped=False)
    report.steps[0] = StepResult(1, "prune", {}, bare, 1.0, "01-prune.onnx", "ok")
    row = dict(zip(STEP_COLUMNS, steps_table(report).rows[1]))
    assert (row["latency"], row["edge latency"], row["faster"], row["edge faster"]) == ("-", "-", "-", "-")
    row = dict(zip(STEP_COLUMNS, steps_table(_report(stopped=False)).rows[1]))
    assert (row["latency"], row["edge latency"]) == ("0.200 ms", "0.100 ms")


def test_table_titles_columns_and_alignment():
    table = evaluation_table(ev("lenet.onnx"))
    assert (table.title, table.columns, table.numeric) == ("lenet.onnx", ["measure", "value"], set())
    assert compare_table([ev("a"), ev("b")]).title == "comparison"
    assert compare_table([ev("a")], title="peers").title == "peers"
    far = compare_table([ev("a", 9927), ev("b", 8000)])
    assert far.rows[1][2] == "-19.27 pt"


def test_passes_table_rows_come_from_the_registry():
    from edgeshrink.params import parameters
    from edgeshrink.passes import REGISTRY
    from edgeshrink.tables.table import passes_table

    table = passes_table([REGISTRY.get("prune")])
    assert (table.title, table.columns, table.numeric) == ("passes", ["pass", "parameter", "values", "default",
                                                                      "what it does"], set())
    assert table.rows[0] == ["prune", "", "", "", REGISTRY.get("prune").summary]
    rows = {row[1]: row for row in table.rows[1:]}
    assert rows["method"][:4] == ["", "method", "unstructured | structured", "structured"]
    assert rows["distill"][2:4] == ["true | false", "false"] and rows["finetune_images"][3] == "null"
    assert rows["sparsity"][3] == "0.5" and rows["norm"][4] == "structured: how a channel's weights are ranked"
    assert len(passes_table(list(REGISTRY)).rows) == sum(1 + len(parameters(s.config)) for s in REGISTRY)


def test_report_markdown_without_notes_ends_with_the_outcome(tmp_path):
    report = _report(stopped=False)
    report.steps[0] = StepResult(1, "prune", {}, report.steps[0].evaluation, 1.0, "01-prune.onnx", "ok", ["a", "b"])
    report.write(tmp_path)
    assert (tmp_path / "report.md").read_text().endswith("model.opt.onnx.\n\n- step 1 (prune): a\n- step 1 (prune): b\n")
    assert (tmp_path / "report.json").read_text().startswith('{\n  "schema": 1,\n  "model": "lenet.onnx",\n  "recipe"')
    report.steps[0] = StepResult(1, "prune", {}, report.steps[0].evaluation, 1.0, "01-prune.onnx", "ok")
    report.write(tmp_path)
    assert (tmp_path / "report.md").read_text().endswith("| 1.0 |\n\nrecipe 'default' completed; final model model.opt.onnx.\n")
