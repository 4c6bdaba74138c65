"""clang + wasm-ld (+ wasm-opt when present): C source in, wasm32 module bytes out.

clang 14 runs wasm-opt by itself after linking without --enable-simd, which breaks SIMD builds, so the
compiler and the linker are called separately and wasm-opt is run here with the features enabled.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from edgeshrink.errors import UnsupportedModel

FEATURES = ["-msimd128", "-mbulk-memory", "-mnontrapping-fptoint", "-msign-ext"]
WASM_OPT_FEATURES = ["--enable-simd", "--enable-bulk-memory", "--enable-nontrapping-float-to-int",
                     "--enable-sign-ext"]
STACK_BYTES = 1 << 16


def tools() -> dict[str, str | None]:
    """Paths of clang and wasm-ld (required) and wasm-opt (optional); UnsupportedModel when missing."""
    found = {name: shutil.which(name) for name in ("clang", "wasm-ld", "wasm-opt")}
    missing = [name for name in ("clang", "wasm-ld") if not found[name]]
    if missing:
        raise UnsupportedModel(f"the toolchain ({', '.join(missing)}) is missing: run scripts/setup.sh")
    return found


def build(source: str, simd: bool = True) -> bytes:
    """Compile one C translation unit to a wasm32 module exporting its memory."""
    found = tools()
    features = FEATURES if simd else FEATURES[1:]
    with tempfile.TemporaryDirectory(prefix="edgeshrink-wasm-") as tmp:
        c, obj, wasm = Path(tmp) / "model.c", Path(tmp) / "model.o", Path(tmp) / "model.wasm"
        c.write_text(source)
        _run([found["clang"], "--target=wasm32", "-O3", "-ffreestanding", "-nostdlib", "-fno-math-errno",
              *features, "-c", str(c), "-o", str(obj)], "clang")
        _run([found["wasm-ld"], "--no-entry", "--strip-all", "-z", f"stack-size={STACK_BYTES}",
              str(obj), "-o", str(wasm)], "wasm-ld")
        if found["wasm-opt"]:
            _run([found["wasm-opt"], "-O3", *(WASM_OPT_FEATURES if simd else WASM_OPT_FEATURES[1:]),
                  str(wasm), "-o", str(wasm)], "wasm-opt")
        return wasm.read_bytes()


def _run(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        first = (result.stderr or result.stdout).strip().splitlines()[:1]
        raise UnsupportedModel(f"{what} failed on the generated code: {first[0] if first else result.returncode}")
