"""The CPU a number was measured on, as this process sees it: cpuid's features (through numpy), so an emulator's
CPU model shows, and the model name the OS reports."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field

# x86: the kernels onnxruntime picks for int8 (AVX2 and AVX-512 Core cap sums, VNNI does not); ARM: dot product.
INT8_FEATURES = ("SSE41", "AVX2", "AVX512F", "AVX512BW", "AVX512VNNI", "AVXVNNI", "ASIMD", "ASIMDDP")


@dataclass(frozen=True)
class Cpu:
    """The CPU a number was measured on, as this process sees it (cpuid, so an emulator's CPU model shows)."""

    machine: str  # x86_64, aarch64, arm64...
    model: str  # the model name the OS reports ('' where it does not)
    int8_features: list[str] = field(default_factory=list)  # of INT8_FEATURES, those present

    def describe(self) -> str:
        features = ", ".join(self.int8_features) or "none of " + ", ".join(INT8_FEATURES[:5])
        return f"{self.model or self.machine} ({self.machine}; {features})"


def cpu() -> Cpu:
    """This process's CPU: its model name and the int8-relevant features its cpuid reports."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as found
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as found
    flags = _cpuinfo("flags") or _cpuinfo("Features")
    features = [f for f in INT8_FEATURES if found.get(f) or (f == "AVXVNNI" and "avx_vnni" in flags.split())]
    return Cpu(platform.machine(), _cpuinfo("model name") or platform.processor(), features)


def _cpuinfo(key: str) -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        pass
    return ""
