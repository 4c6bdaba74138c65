"""What a bundle costs over the wire: its files by part, and what a first visit of the page loads."""

from __future__ import annotations

from pathlib import Path

from edgeshrink.size import Size
from edgeshrink.web.assemble.compress import ENCODINGS

PARTS = ("runtime", "models", "app")
BACKENDS_DIR = "js/backends/"
FORMATS = "js/formats.js"  # what only some variants need to be fed and read (signature.js loads it for them)
HOOK = "js/hook.js"  # the test hook's calls (verify, the tests): a visitor's page never loads it
MANIFEST = "manifest.json"  # for tools and people: the page reads its copy inside index.html
# what the page loads once its first answer is shown (the gallery's digits, their code; the icon, which the
# browser asks for late)
AFTER_ANSWER = {"samples.bin", "js/later.js", "icon.svg"}


def part_of(path: str) -> str:
    """runtime (onnxruntime-web, or a compiled model's ES module loader), models (weights, the compiled
    wasm: its kernels and weights in one module), or app (the page, manifest, digits)."""
    if path.startswith("ort/") or (path.startswith("models/") and path.endswith(".mjs")):
        return "runtime"
    if path.startswith("models/"):
        return "models"
    return "app"


def by_part(files: dict[str, Size]) -> dict[str, tuple[int, Size]]:
    """(files, size) of each part, in PARTS order."""
    parts = {name: (0, Size()) for name in PARTS}
    for path, size in files.items():
        count, total = parts[part_of(path)]
        parts[part_of(path)] = (count + 1, total + size)
    return parts


def first_visit_files(files: dict[str, Size], entry: dict) -> list[str]:
    """The files the page loads on a first visit showing variant `entry` (a manifest record): the app
    without the other runtimes' backends, manifest.json, the test hook's calls and formats.js unless the variant
    needs it, the gallery's digits, and the variant's model and runtime unless index.html carries them."""
    backend = f"{BACKENDS_DIR}{entry['runtime']}.js"
    app = [p for p in files if part_of(p) == "app" and p not in (MANIFEST, HOOK)
           and (not p.startswith(BACKENDS_DIR) or p == backend) and (p != FORMATS or needs_formats(entry))]
    if entry["runtime"] == "compiled":
        own = [] if entry["compiled"].get("inline") else [entry["compiled"]["wasm"]]  # the page runs it itself
    else:
        own = [entry["file"], *(p for p in files if p.startswith("ort/"))]
    return sorted(app + own)


def needs_formats(entry: dict) -> bool:
    """Whether the page loads formats.js for this variant (signature.js, prepare: the same rule)."""
    plain = entry["runtime"] == "compiled" and not (entry.get("batch") or 0) > 1 \
        and not entry["layout"].endswith("3") and entry["dtype"] != "float16"
    return not plain


def first_answer_files(files: dict[str, Size], entry: dict) -> list[str]:
    """What of the first visit comes before the first answer: not what the page loads after it."""
    return [p for p in first_visit_files(files, entry) if p not in AFTER_ANSWER]


def first_visit(files: dict[str, Size], entry: dict) -> dict:
    """Bytes (raw, gzip, brotli) by part of a first visit showing `entry`, the files counted, and the bytes
    before the first answer (`first_answer`)."""
    loaded = first_visit_files(files, entry)
    parts = by_part({p: files[p] for p in loaded})
    table = {name: size.to_dict() for name, (_, size) in parts.items()}
    table["total"] = sum((size for _, size in parts.values()), Size()).to_dict()
    table["first_answer"] = sum((files[p] for p in first_answer_files(files, entry)), Size()).to_dict()
    table["files"] = loaded
    return table


def measure(dist: Path) -> dict[str, Size]:
    """The files of the bundle in `dist` (those with a .gz and a .br beside them) and their sizes."""
    files = {}
    for path in sorted(Path(dist).rglob("*")):
        encoded = [path.with_name(path.name + suffix) for suffix in (ENCODINGS["gzip"], ENCODINGS["br"])]
        if path.is_file() and all(p.is_file() for p in encoded):
            files[path.relative_to(dist).as_posix()] = Size(*(p.stat().st_size for p in (path, *encoded)))
    return files
