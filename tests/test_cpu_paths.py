"""The int8 exactness tests again, on CPUs whose onnxruntime kernels differ from this machine's, on this machine.

QEMU user-mode emulation (Debian's qemu-user) runs this Python under another CPU model, so onnxruntime's MLAS
picks other int8 kernels: Haswell (AVX2 without VNNI: uint8 x int8 pairs summed into a saturating int16) and
Nehalem (SSE4.2: widened to 32 bits first). Only the emulated Python changes CPU; the clang and Node it starts
run natively, which is all the tests need (the compiled runtime does not depend on the build machine's CPU).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Named models without the features QEMU's TCG cannot emulate (it would warn about each on every start).
CPUS = {"haswell": "Haswell-noTSX,-pcid,-x2apic,-tsc-deadline,-invpcid", "nehalem": "Nehalem"}
EXACTNESS_TESTS = ["tests/test_engine.py", "tests/runtime/test_qlinear.py", "tests/runtime/test_qlinear_forms.py",
                   "tests/runtime/test_dynamic.py", "tests/runtime/test_elementwise.py"]  # the float tails of int8 models

pytestmark = [pytest.mark.slow,  # a whole Python, and test modules, under an emulated CPU
              pytest.mark.skipif(platform.machine() != "x86_64",
                                 reason="onnxruntime's x86 kernel paths are emulated on an x86-64 host only")]


def _emulated(cpu: str, *args: str, timeout: int) -> subprocess.CompletedProcess:
    qemu = shutil.which("qemu-x86_64")
    assert qemu, "qemu-x86_64 is missing: run scripts/setup.sh (it installs Debian's qemu-user)"
    return subprocess.run([qemu, "-cpu", CPUS[cpu], sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.mark.parametrize("cpu,capped", [("haswell", True), ("nehalem", False)])
def test_the_emulated_cpu_runs_other_kernels(cpu, capped):
    probe = "import json; from edgeshrink import engine; print(json.dumps(engine.current().to_dict()))"
    done = _emulated(cpu, "-c", probe, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "AVX512VNNI" not in found["cpu"]["int8_features"]
    assert ("AVX2" in found["cpu"]["int8_features"]) == capped
    assert found["native_exact"] == (not capped)  # Haswell's defaults cap sums; the SSE kernels do not
    assert found["int8"] == ("onnxruntime with session.x64quantprecision=1" if capped else "onnxruntime")


@pytest.mark.parametrize("cpu", list(CPUS))
def test_the_int8_suite_passes_on_the_emulated_cpu(cpu):
    done = _emulated(cpu, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *EXACTNESS_TESTS, timeout=1800)
    lines = done.stdout.strip().splitlines()
    summary = lines[-1] if lines else done.stderr[-2000:]
    assert done.returncode == 0 and " passed" in summary, f"under {CPUS[cpu]}: {summary}\n{done.stdout[-4000:]}"
    # a kernel test skips only where onnxruntime itself is not exact on that CPU (it cannot be the reference;
    # edgeshrink measures such a model with the compiled runtime), never for another reason
    skips = [line for line in lines if line.startswith("SKIPPED")]
    assert all("onnxruntime computes no exact reference" in line for line in skips), skips
