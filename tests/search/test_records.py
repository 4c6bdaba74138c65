"""The typed seams of a search: a trial's record and its edge measurement come back from their dicts as the
same dataclasses, and the objectives are read from one table in one order."""

from __future__ import annotations

import json

from edgeshrink.search.edge import EdgeMeasurement
from edgeshrink.search.study.objectives import OBJECTIVES
from edgeshrink.search.study.trial import TrialRecord

EDGE = EdgeMeasurement("onnxruntime-web 1.30.0", 400_000, 20_000, 0.5, 30.0, "not compiled: Loop", False)
RECORD = TrialRecord(7, "input", "bases/input.onnx", [{"pass": "fuse"}], 0.987, 5000, 1000, 800, EDGE, 12.5,
                     "trials/0007", ["a note"])


def test_a_trial_record_comes_back_from_its_json():
    data = json.loads(json.dumps(RECORD.to_dict()))  # as trial.json and the study's user attribute hold it
    assert data["edge"]["transfer_brotli"] == 420_000 and "compiled" not in data["edge"]
    assert TrialRecord.from_dict(data) == RECORD


def test_the_module_an_edge_measurement_carries_is_not_recorded():
    carried = EdgeMeasurement("compiled", 9000, 0, 0.1, 0.0, compiled=object())
    assert "compiled" not in carried.to_dict() and EdgeMeasurement.from_dict(carried.to_dict()).compiled is None


def test_the_objectives_are_read_in_the_table_order():
    assert [o.name for o in OBJECTIVES] == ["val_accuracy", "transfer_brotli", "latency_ms"]
    assert [o.direction for o in OBJECTIVES] == ["maximize", "minimize", "minimize"]
    assert RECORD.objectives() == (0.987, 420_000, 0.5)
