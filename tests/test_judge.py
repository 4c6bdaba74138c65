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
    assert set(judge.worse(before, slower)) == {"slower"} and "3.00x slower" in judge.worse(before, slower)["slower"]
    jitter = dataclasses.replace(before.latency, median_ms=before.latency.median_ms * 1.1)
    assert judge.worse(before, dataclasses.replace(before, latency=jitter)) == {}  # within SLOWER_FACTOR
