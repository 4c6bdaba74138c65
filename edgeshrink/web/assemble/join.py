"""The page's ES modules joined into one file, so a first visit asks for the app's code once.

Each request costs a round trip on a phone's network, and a browser opens only six connections to a
host on HTTP/1.1: the app's six modules, its stylesheet, manifest and icon, and the model's runtime and
weights took two rounds before the first prediction could run.

The app's own modules follow a small convention, which `join` checks rather than assumes: static imports
are `import { a, b as c } from "./x.js";` or `import * as x from "./x.js";` of a sibling module, and
exports are declarations (`export function`, `export class`, `export const`). Each imported module
becomes a function scope that returns its exports, in dependency order; the entry module keeps its own
top level. Dynamic `import()` (the backends) stays as it is: it resolves against the joined file, which
takes the entry's place in the same folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from edgeshrink.errors import BundleError

IMPORT = re.compile(r'^import\s+(?:\{(?P<names>[^}]*)\}|\*\s+as\s+(?P<star>[\w$]+))\s+'
                    r'from\s+"\./(?P<file>[\w.-]+\.js)";[ \t]*$', re.M)
EXPORT = re.compile(r"^export\s+(?:async\s+)?(?:function\*?|class|const|let)\s+([\w$]+)", re.M)
OTHER_EXPORT = re.compile(r"^export\s+(?!(?:async\s+)?(?:function\*?|class|const|let)\s)", re.M)
OTHER_IMPORT = re.compile(r"^import\s", re.M)


def join(folder: Path, entry: str = "app.js") -> tuple[str, list[str]]:
    """The entry module with the modules it imports statically, as one module; and those modules' names."""
    texts: dict[str, str] = {}
    order: list[str] = []

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in chain:
            raise BundleError(f"the page's modules import each other in a cycle: {' -> '.join(chain + (name,))}")
        if name in order:
            return
        path = folder / name
        if not path.is_file():
            raise BundleError(f"{chain[-1]} imports ./{name}, which is not in {folder}")
        texts[name] = path.read_text(encoding="utf-8")
        for found in IMPORT.finditer(texts[name]):
            visit(found["file"], chain + (name,))
        order.append(name)

    visit(entry, ())
    parts = [f"// {entry} and the modules it imports ({', '.join(order[:-1])}), joined by edgeshrink bundle"]
    for name in order:
        body = _check(name, IMPORT.sub(_binding, texts[name]))
        if name == entry:
            parts.append(body)
            continue
        exports = EXPORT.findall(body)
        body = re.sub(r"^export\s+", "", body, flags=re.M)
        parts.append(f"const {_scope(name)} = (() => {{\n{body}\nreturn {{ {', '.join(exports)} }};\n}})();")
    return "\n".join(parts), order[:-1]


def _binding(found: re.Match) -> str:
    if found["star"]:
        return f"const {found['star']} = {_scope(found['file'])};"
    names = [n.strip() for n in found["names"].split(",") if n.strip()]
    pairs = [": ".join(p.strip() for p in n.split(" as ")) if " as " in n else n for n in names]
    return f"const {{ {', '.join(pairs)} }} = {_scope(found['file'])};"


def _check(name: str, body: str) -> str:
    """What is left after the imports were bound must be plain declarations: anything else is refused."""
    for pattern, what in ((OTHER_IMPORT, "an import"), (OTHER_EXPORT, "an export")):
        found = pattern.search(body)
        if found:
            line = body[found.start():].splitlines()[0]
            raise BundleError(f"{name} has {what} the bundle cannot join ({line.strip()!r}); import siblings as "
                              f'`import {{ a }} from "./x.js";` and export declarations')
    return body


def _scope(file: str) -> str:
    return "__" + re.sub(r"\W", "_", file)
