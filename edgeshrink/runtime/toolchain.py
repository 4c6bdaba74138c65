"""C source in, wasm32 module bytes out.

The compiler is zig's clang from the `ziglang` wheel, a pinned dependency: the same model gives the same module,
byte for byte, on Linux, macOS and Windows, with nothing to install beside pip. EDGESHRINK_CC=clang uses the
system's clang and wasm-ld instead. Either way the runs of zeros in the data segments are cut out (pack.py),
which is what wasm-opt's memory packing did; wasm-opt itself is no longer run (measured in bench/toolchain.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from edgeshrink.errors import UnsupportedModel, check_exit
from edgeshrink.runtime.pack import pack

ENV = "EDGESHRINK_CC"  # "zig" (the default) or "clang" (the system's clang and wasm-ld)
FEATURES = ["-msimd128", "-mbulk-memory", "-mnontrapping-fptoint", "-msign-ext"]
FLAGS = ["-ffreestanding", "-nostdlib", "-fno-math-errno"]
# the optimization level of each build: "fast" unrolls and vectorizes each kernel for its shapes, "small" keeps
# the code short (about a third of fast's on small models: runtime/compiler.py chooses between them for a page)
LEVELS = {"fast": "-O3", "small": "-Os"}
STACK_BYTES = 1 << 16


@dataclass(frozen=True)
class Toolchain:
    name: str  # with its version, e.g. "zig 0.17.1"
    cc: tuple[str, ...]
    ld: tuple[str, ...]


def tools() -> Toolchain:
    """The compiler and linker to use; UnsupportedModel naming the fix when they are missing."""
    choice = os.environ.get(ENV, "zig")
    if choice == "clang":
        found = {name: shutil.which(name) for name in ("clang", "wasm-ld")}
        missing = [name for name, path in found.items() if not path]
        if missing:
            raise UnsupportedModel(f"{ENV}=clang but {', '.join(missing)} is not on PATH: install clang and lld, "
                                   f"or unset {ENV} to use zig's compiler from the ziglang package")
        return Toolchain(f"clang ({found['clang']})", (found["clang"], "--target=wasm32"), (found["wasm-ld"],))
    if choice != "zig":
        raise UnsupportedModel(f"{ENV}={choice} is not a compiler edgeshrink knows; set it to zig or clang")
    try:
        zig = version("ziglang")
    except PackageNotFoundError:
        raise UnsupportedModel("the compiler is missing: pip install ziglang (a dependency of edgeshrink)") from None
    command = (sys.executable, "-m", "ziglang")
    return Toolchain(f"zig {zig}", (*command, "cc", "--target=wasm32-freestanding"), (*command, "wasm-ld"))


def build(source: str, simd: bool = True, level: str = "fast") -> bytes:
    """Compile one C translation unit to a wasm32 module exporting its memory, zero runs cut from its data;
    `level` is one of LEVELS."""
    return pack(linked(source, simd, level))


def linked(source: str, simd: bool = True, level: str = "fast") -> bytes:
    """The module as the linker writes it."""
    chain = tools()
    features = FEATURES if simd else FEATURES[1:]
    with tempfile.TemporaryDirectory(prefix="edgeshrink-wasm-") as tmp:
        c, obj, wasm = Path(tmp) / "model.c", Path(tmp) / "model.o", Path(tmp) / "model.wasm"
        c.write_text(source)
        env = {**os.environ, "ZIG_GLOBAL_CACHE_DIR": tmp, "ZIG_LOCAL_CACHE_DIR": tmp}  # nothing left behind
        _run([*chain.cc, LEVELS[level], *FLAGS, *features, "-c", str(c), "-o", str(obj)], chain.name, env)
        _run([*chain.ld, "--no-entry", "--strip-all", "-z", f"stack-size={STACK_BYTES}", str(obj), "-o", str(wasm)],
             f"{chain.name} wasm-ld", env)
        return wasm.read_bytes()


def _run(cmd: list[str], what: str, env: dict[str, str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    check_exit(result.returncode, what)
    if result.returncode != 0:
        first = (result.stderr or result.stdout).strip().splitlines()[:1]
        raise UnsupportedModel(f"{what} failed on the generated code: {first[0] if first else result.returncode}")
