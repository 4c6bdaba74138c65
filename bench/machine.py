"""The machine a benchmark ran on, for its page: the CPU model and flags as `lscpu` gives them, onnxruntime's
version, and what computed int8 arithmetic (onnxruntime's int8 results depend on the CPU; see edgeshrink.engine)."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edgeshrink import engine  # noqa: E402


def lscpu() -> dict[str, str]:
    """`lscpu`'s fields (empty where it is missing, as on macOS)."""
    if not shutil.which("lscpu"):
        return {}
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines()) if v}


def markdown() -> list[str]:
    """Lines for a benchmark page: CPU, flags, onnxruntime and the int8 engine."""
    info = lscpu()
    found = engine.current()
    model = info.get("Model name") or found.cpu.model or platform.machine()
    host = set(info.get("Flags", "").split())
    emulated = [f for f, flag in (("AVX2", "avx2"), ("AVX512VNNI", "avx512_vnni"))
                if flag in host and f not in found.cpu.int8_features]
    seen = (f" This process saw another CPU than the host's (without {', '.join(emulated)}): it ran under an "
            "emulator such as `qemu-x86_64 -cpu MODEL`." if emulated else "")
    return [f"Machine: {model}, {info.get('CPU(s)', '?')} CPUs ({platform.machine()}), Python "
            f"{platform.python_version()}, onnxruntime {found.onnxruntime}.{seen}", "",
            f"Measured with {found.describe()}.", "",
            f"Host CPU flags (lscpu): {info.get('Flags', 'unknown')}", ""]
