"""Verdicts beyond accuracy: a step's model larger or slower than its input."""

import dataclasses

from edgeshrink import judge
from edgeshrink.size import Size


def test_larger_and_slower_are_told_apart(fast_run):
    report, _ = fast_run
    before = report.baseline
    assert judge.worse(before, before) == {}
    size = before.size
    bigger = dataclasses.replace(before, size=Size(int(size.raw * 1.5), int(size.gzip * 1.5), size.brotli))
    assert set(judge.worse(before, bigger)) == {"larger"} and "1.50x larger" in judge.worse(before, bigger)["larger"]
    slow = dataclasses.replace(before.latency, median_ms=before.latency.median_ms * 3)
    slower = dataclasses.replace(before, latency=slow)
    why = judge.worse(before, slower, "native")
    assert set(why) == {"slower"} and "3.00x slower in native onnxruntime" in why["slower"]
    jitter = dataclasses.replace(before.latency, median_ms=before.latency.median_ms * 1.1)
    assert judge.worse(before, dataclasses.replace(before, latency=jitter), "native") == {}  # within SLOWER_FACTOR


def test_slower_is_judged_in_the_pages_runtime_where_the_model_compiles(fast_run):
    report, _ = fast_run
    before = report.baseline
    assert before.edge and before.edge.median_ms  # the small CNN compiles
    native_slower = dataclasses.replace(before, latency=dataclasses.replace(before.latency,
                                                                             median_ms=before.latency.median_ms * 3))
    assert judge.worse(before, native_slower) == {}  # the page's runtime did not slow down
    page_slower = dataclasses.replace(before, edge=dataclasses.replace(before.edge,
                                                                       median_ms=before.edge.median_ms * 2))
    why = judge.worse(before, page_slower)["slower"]
    assert why.startswith("2.00x slower in the page's runtime (compiled wasm, Node)") and "native onnxruntime" in why
    not_compiled = dataclasses.replace(before.edge, median_ms=None, p90_ms=None, reason="operator X is not supported")
    fallback = dataclasses.replace(native_slower, edge=not_compiled)
    assert "3.00x slower in native onnxruntime" in judge.worse(before, fallback)["slower"]
