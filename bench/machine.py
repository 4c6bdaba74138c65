"""The machine a benchmark ran on, for its page: the CPU model and flags as `lscpu` gives them, onnxruntime's
version, and what computed int8 arithmetic (onnxruntime's int8 results depend on the CPU; see edgeshrink.engine).
Also what the benches that compile models share: their command line and their page's opening (the command, the
compiler, how Node timed a digit, the machine)."""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edgeshrink import engine  # noqa: E402
from edgeshrink.runtime import toolchain  # noqa: E402


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


def options(doc: str, page: str, models: list[str]) -> argparse.Namespace:
    """A model bench's command line: --models (comma-separated, under the checkout) and --out (its page)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(models))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / page)
    return parser.parse_args()


def two_builds() -> str:
    """The compiler and the flags of its fast and small builds, as a page names them."""
    return (f"Compiler: {toolchain.tools().name}; fast = `{toolchain.LEVELS['fast']}`, small = "
            f"`{toolchain.LEVELS['small']}`")


def preamble(title: str, script: str, models: str, tools: str, per_call: str, more: str = "") -> list[str]:
    """A model bench page's opening: its title, the command that wrote it, one paragraph (`tools`, then how Node
    timed a digit, `per_call` saying what a call held, then `more`) and the machine."""
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    latency = (f"Latency: Node {node}, medians of 3 alternating rounds of 300 calls on 50 real test digits, "
               f"{per_call} (the machine is shared: compare within a model).")
    return [f"# {title}", "", f"`python bench/{script} --models {models}`", "",
            " ".join(part for part in (tools, latency, more) if part), "", *markdown()]
