"""The web app's own files as a bundle ships them: which files of its folder go, and the text of those the bundle
rewrites (index.html with the stylesheet, the joined entry module and, when small, the default model inside it;
js/later.js joined; every script minified)."""

from __future__ import annotations

from pathlib import Path

from edgeshrink.errors import BundleError
from edgeshrink.web.assemble import inline, join, manifest, minify
from edgeshrink.web.assemble.placement import Placement

ENTRY_JS = "js/app.js"  # the page's module; the bundle joins the modules it imports into it, inside index.html
LATER_JS = "js/later.js"  # what the page loads after its first answer, joined with the modules it imports
STYLE = "style.css"  # inside index.html too
APP_SUFFIXES = {".html", ".css", ".js", ".mjs", ".svg", ".png", ".ico", ".webmanifest"}


def shipped(app_dir: Path) -> tuple[list[Path], dict[str, str]]:
    """The app's files to ship, and the text of those rewritten: index.html with the stylesheet and js/app.js
    (joined with the modules it imports) inside it, which are then left out, and js/later.js joined with the
    modules it imports; every script minified."""
    found = files(app_dir)
    texts = {f.relative_to(app_dir).as_posix(): minify.js(f.read_text(encoding="utf-8"))
             for f in found if f.suffix == ".js"}
    if not (app_dir / ENTRY_JS).is_file():
        return found, texts
    folder = Path(ENTRY_JS).parent
    code, joined = join.join(app_dir / folder, Path(ENTRY_JS).name)
    left_out = {ENTRY_JS, STYLE} | {(folder / name).as_posix() for name in joined}
    if (app_dir / LATER_JS).is_file():
        later, joined = join.join(app_dir / folder, Path(LATER_JS).name)
        texts[LATER_JS] = minify.js(later)
        left_out |= {(folder / name).as_posix() for name in joined}
    style = (app_dir / STYLE).read_text(encoding="utf-8") if (app_dir / STYLE).is_file() else ""
    texts[manifest.PAGE] = inline.page((app_dir / manifest.PAGE).read_text(encoding="utf-8"), style, code)
    return [f for f in found if f.relative_to(app_dir).as_posix() not in left_out], texts


def carry_model(app_texts: dict[str, str], shown: Placement, cache: Path) -> bool:
    """Put the default variant's compiled model inside index.html when it is small (inline.carries); whether it
    was. `cache`: where the rotation of its text is kept (wasmtext.rotation)."""
    if shown.runtime != "compiled" or manifest.PAGE not in app_texts:
        return False
    wasm = next(data for name, data in shown.files.items() if name.endswith(".wasm"))
    if not inline.carries(wasm):
        return False
    app_texts[manifest.PAGE] = inline.model(app_texts[manifest.PAGE], shown.variant.name, wasm, cache / "compressed")
    return True


def files(app_dir: Path) -> list[Path]:
    """The app folder's files a bundle may ship (no hidden files, no node_modules); it must hold index.html."""
    found = sorted(
        p for p in app_dir.rglob("*")
        if p.is_file() and p.suffix in APP_SUFFIXES
        and not any(part.startswith(".") or part == "node_modules" for part in p.relative_to(app_dir).parts)
    )
    if not any(p.name == "index.html" for p in found):
        raise BundleError(f"the web app folder {app_dir} has no index.html; pass the page's folder")
    return found
